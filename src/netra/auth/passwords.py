"""Argon2id password hashing (argon2-cffi) on a pool of its own, and the new-password policy.

Parameters follow OWASP's argon2id recommendation (19 MiB, 2 passes, 1 lane). Hashes run
on a dedicated pool of ``CONCURRENT_HASHES`` threads, so a burst of logins waits its turn
there and never takes the default thread pool that runs, the database and the analyses
use, nor the server's memory (each hash holds its 19 MiB while it runs).

New passwords follow NIST SP 800-63B: a length (8..256, checked by the API models), no
control characters, not one of the most common passwords (zxcvbn's list of 30,000), and no
composition rules.
"""

from __future__ import annotations

import ast
import asyncio
import importlib.util
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from netra.errors import InvalidInput

CONCURRENT_HASHES = 2
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
_pool = ThreadPoolExecutor(CONCURRENT_HASHES, thread_name_prefix="netra-password")


@cache
def _dummy_hash() -> str:
    """Verified against when the email is unknown, so both failures cost the same time."""
    return _hasher.hash("netra-timing-equaliser")


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        _hasher.verify(password_hash or _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False
    return password_hash is not None


async def hash_password(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_pool, _hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    return await asyncio.get_running_loop().run_in_executor(_pool, _verify, password_hash, password)


@cache
def common_passwords() -> frozenset[str]:
    """zxcvbn's 30,000 most common passwords (lower case), loaded at the first registration.

    Only that list is read from zxcvbn's generated ``frequency_lists`` module (one line,
    ``"passwords": "a,b,...".split(",")``): importing the module would keep its six other
    lists (English words, names, TV words) resident, 15 MiB that every server would carry.
    """
    package = importlib.util.find_spec("zxcvbn")  # finds it without importing it
    if package is None or not package.submodule_search_locations:
        raise RuntimeError("the zxcvbn package is not installed")
    lists = Path(package.submodule_search_locations[0]) / "frequency_lists.py"
    with lists.open(encoding="utf-8") as source:
        for line in source:
            prefix, _, rest = line.strip().partition('"passwords": "')
            if not prefix and rest.endswith('".split(","),'):
                text = ast.literal_eval('"' + rest.removesuffix('.split(","),'))
                return frozenset(text.split(","))
    from zxcvbn.frequency_lists import FREQUENCY_LISTS  # another layout: import it whole

    return frozenset(FREQUENCY_LISTS["passwords"])


async def check_new_password(password: str) -> None:
    """Raise ``InvalidInput`` naming ``password`` when the policy refuses it."""
    if any(unicodedata.category(char) == "Cc" for char in password):
        raise InvalidInput("password: must not contain control characters", field="password")
    if password.lower() in await asyncio.to_thread(common_passwords):
        raise InvalidInput(
            "password: this is one of the most common passwords; choose another",
            field="password",
        )
