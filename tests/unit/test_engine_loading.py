"""The analytics engine loads with a server's first analysis, not with the server."""

from __future__ import annotations

import subprocess
import sys

ENGINE = ("duckdb", "pyarrow", "numpy", "genai_prices")


def test_building_the_app_and_its_run_state_loads_no_engine() -> None:
    code = (
        "import sys\n"
        "from netra.app import create_app\n"
        "from netra.runtime.state import RunState\n"
        "import netra.agents, netra.resources\n"
        f"print(','.join(m for m in {ENGINE!r} if m in sys.modules))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "", f"importing the server loaded {loaded}"
