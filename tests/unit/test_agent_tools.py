"""Agent tools over a run's dataset: one connection per run, and the engine out of the GC."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path
from typing import Any

import pytest

from netra.agents import tools
from netra.analytics.analyses.summary import summarize
from netra.analytics.demo.generator import write_demo
from netra.runtime import dataset as run_dataset
from netra.runtime.dataset import RunDataset


class _Run:
    """What ``tools.over_dataset`` reads of a run's context."""

    def __init__(self, path: Path) -> None:
        self.dataset = RunDataset(id="d1", path=path)


def test_the_first_analysis_freezes_the_loaded_engine_and_later_ones_share_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "demo.parquet"
    write_demo(path, rows=2_000)
    run: Any = _Run(path)
    monkeypatch.setattr(run_dataset, "_engine_frozen", False)
    gc.unfreeze()  # as after start-up: nothing frozen since
    try:
        first = asyncio.run(tools.over_dataset(run, summarize))
        frozen = gc.get_freeze_count()
        connection = run.dataset._connection
        again = asyncio.run(tools.over_dataset(run, summarize))

        assert frozen > 0
        assert gc.get_freeze_count() == frozen  # once per process
        assert run.dataset._connection is connection
        assert again == first and first.rows == 2_000
    finally:
        run.dataset.close()
        gc.unfreeze()


def test_a_closed_run_dataset_refuses_analyses_and_holds_no_connection(tmp_path: Path) -> None:
    path = tmp_path / "demo.parquet"
    write_demo(path, rows=500)
    run: Any = _Run(path)
    asyncio.run(tools.over_dataset(run, summarize))
    assert run.dataset.is_open

    run.dataset.close()

    assert not run.dataset.is_open
    with pytest.raises(Exception, match="closed"):
        asyncio.run(tools.over_dataset(run, summarize))
