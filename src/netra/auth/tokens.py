"""Access tokens: HS256 JWTs with the claims of PROTOCOL.md; refresh tokens: opaque, hashed."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass

import jwt

from netra.errors import Unauthorized

ISSUER = "netra"
AUDIENCE = "netra-api"
ALGORITHM = "HS256"
_REQUIRED = ["sub", "sid", "exp", "iat", "jti", "iss", "aud"]


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: str
    session_id: str
    expires_at: float


def issue_access_token(key: bytes, user_id: str, session_id: str, ttl_s: int) -> str:
    now = int(time.time())
    claims = {
        "sub": user_id,
        "sid": session_id,
        "iat": now,
        "exp": now + ttl_s,
        "jti": uuid.uuid4().hex,
        "iss": ISSUER,
        "aud": AUDIENCE,
    }
    return jwt.encode(claims, key, algorithm=ALGORITHM)


def read_access_token(key: bytes, token: str) -> AccessClaims:
    """Verify signature, algorithm, expiry, issuer and audience; raise Unauthorized otherwise."""
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": _REQUIRED},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("the access token has expired") from None
    except jwt.PyJWTError:
        raise Unauthorized("the access token is not valid") from None
    if not isinstance(claims["sub"], str) or not isinstance(claims["sid"], str):
        raise Unauthorized("the access token is not valid")
    return AccessClaims(claims["sub"], claims["sid"], float(claims["exp"]))


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
