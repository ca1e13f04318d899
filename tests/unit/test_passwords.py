"""Password hashing runs on a pool of its own; the new-password policy."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

import pytest

from netra.auth.passwords import check_new_password, hash_password, verify_password
from netra.errors import InvalidInput


async def test_a_burst_of_hashes_leaves_the_default_thread_pool_free() -> None:
    burst = [asyncio.create_task(hash_password(f"password number {n}")) for n in range(24)]
    await asyncio.sleep(0.05)  # the burst is queued (and two hashes run)
    started = time.perf_counter()
    await asyncio.to_thread(lambda: None)  # what runs, the database and analyses use
    waited = time.perf_counter() - started
    hashes = await asyncio.gather(*burst)
    assert waited < 0.1, f"a thread of the default pool waited {waited:.2f} s behind hashes"
    assert await verify_password(hashes[3], "password number 3")
    assert not await verify_password(hashes[3], "password number 4")
    assert not await verify_password(None, "password number 3")


@pytest.mark.parametrize("password", ["password1", "PASSWORD1", "trustno1", "nul\x00nul!"])
async def test_common_passwords_and_control_characters_are_refused(password: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        await check_new_password(password)
    assert refused.value.details == {"field": "password"}


async def test_a_long_uncommon_passphrase_is_accepted() -> None:
    await check_new_password("stapled horse battery, correct")


def test_the_deny_list_is_zxcvbns_passwords_read_without_its_other_lists() -> None:
    code = (
        "import sys\n"
        "from netra.auth.passwords import common_passwords\n"
        "found = common_passwords()\n"
        "loaded = 'zxcvbn.frequency_lists' in sys.modules\n"
        "from zxcvbn.frequency_lists import FREQUENCY_LISTS\n"
        "print(loaded, found == frozenset(FREQUENCY_LISTS['passwords']), len(found))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["False", "True", "30000"], out
