"""Argon2id password hashing (argon2-cffi), run off the event loop.

Parameters follow OWASP's argon2id recommendation (19 MiB, 2 passes, 1 lane). At most
``CONCURRENT_HASHES`` hashes run at once, so a burst of logins cannot take the server's
memory (each hash holds its 19 MiB while it runs) or all of its CPU.
"""

from __future__ import annotations

import asyncio
import threading
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

CONCURRENT_HASHES = 2
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
_slots = threading.BoundedSemaphore(CONCURRENT_HASHES)


@cache
def _dummy_hash() -> str:
    """Verified against when the email is unknown, so both failures cost the same time."""
    return _hasher.hash("netra-timing-equaliser")


def _hash(password: str) -> str:
    with _slots:
        return _hasher.hash(password)


def _verify(password_hash: str | None, password: str) -> bool:
    with _slots:
        try:
            _hasher.verify(password_hash or _dummy_hash(), password)
        except (VerificationError, InvalidHashError):
            return False
    return password_hash is not None


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    return await asyncio.to_thread(_verify, password_hash, password)
