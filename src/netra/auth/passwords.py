"""Argon2id password hashing (argon2-cffi), run off the event loop."""

from __future__ import annotations

import asyncio
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # stateless: RFC 9106 low-memory profile


@cache
def _dummy_hash() -> str:
    """Verified against when the email is unknown, so both failures cost the same time."""
    return _hasher.hash("netra-timing-equaliser")


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    def verify() -> bool:
        try:
            return (
                _hasher.verify(password_hash or _dummy_hash(), password)
                and password_hash is not None
            )
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(verify)
