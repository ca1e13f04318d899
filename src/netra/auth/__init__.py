"""Authentication: password hashing, access tokens, sessions with rotating refresh tokens."""
