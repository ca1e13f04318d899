"""Optimizer benchmark: the full analysis of N demo rows, wall time and CPU seconds.

For each size, writes the demo dataset (``netra.analytics.demo.generator.write_demo``) into a
temporary directory, then times ``analyze`` (``bench/analysis.py``) — summary, every
spend breakdown, daily trend, feature growth, anomalies, latency percentiles and every
recommendation with the combined saving — ``--repeat`` times, and once more stage by stage
over one connection (what ``analyze`` does), to show where the time goes.

Wall time depends on what else the machine runs: the load average is printed first, and
CPU seconds (user + system of this process, all DuckDB threads) next to every wall time.

    python bench/optimizer.py                       # 20,000 and 10,000,000 rows
    python bench/optimizer.py --rows 20000 --repeat 10
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
from analysis import analyze

from netra.analytics.analyses import cells, savings
from netra.analytics.analyses.breakdowns import (
    BREAKDOWNS,
    daily_trend,
    feature_growth,
    spend_breakdown,
)
from netra.analytics.analyses.findings import anomalies, latency_percentiles
from netra.analytics.analyses.summary import summarize
from netra.analytics.connection import open_dataset
from netra.analytics.demo.generator import write_demo


def timed(action: Callable[..., Any], *args: Any) -> tuple[float, float]:
    """Wall seconds and CPU seconds of ``action(*args)``."""
    wall, cpu = time.perf_counter(), time.process_time()
    action(*args)
    return time.perf_counter() - wall, time.process_time() - cpu


def spend(con: duckdb.DuckDBPyConnection) -> None:
    summarize(con)
    for by in BREAKDOWNS:
        spend_breakdown(con, by)
    daily_trend(con)
    feature_growth(con)
    anomalies(con)


def kinds(con: duckdb.DuckDBPyConnection, names: cells.Names) -> None:
    for kind in (
        savings.response_cache,
        savings.model_routing,
        savings.prompt_caching,
        savings.batch_api,
        savings.error_waste,
    ):
        kind(con, names)


def stages(path: Path) -> list[tuple[str, float, float]]:
    """Each part of ``analyze`` timed on its own, over one connection."""
    wall, cpu = time.perf_counter(), time.process_time()
    with open_dataset(path, rollup=True) as con:
        found = [("price + roll up", time.perf_counter() - wall, time.process_time() - cpu)]
        found.append(("summary, spend, findings", *timed(spend, con)))
        found.append(("latency", *timed(latency_percentiles, con)))
        wall, cpu = time.perf_counter(), time.process_time()
        names = cells.prepare(con)
        found.append(("savings: prepare", time.perf_counter() - wall, time.process_time() - cpu))
        found.append(("savings: five kinds", *timed(kinds, con, names)))
        found.append(("savings: combined", *timed(savings.chain, con)))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[20_000, 10_000_000])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    print(f"load average {os.getloadavg()}, {os.cpu_count()} CPUs, python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as folder:
        for rows in args.rows:
            path = Path(folder) / f"demo-{rows}.parquet"
            wall, cpu = timed(write_demo, path, rows, args.seed)
            print(
                f"\n{rows:,} rows: write_demo {wall:.3f} s wall, {cpu:.3f} s CPU "
                f"({path.stat().st_size / 1e6:.1f} MB)"
            )
            analyze(path)  # warm: catalog loaded, file in the page cache
            runs = [timed(analyze, path) for _ in range(args.repeat)]
            walls = [w for w, _ in runs]
            print(
                f"  analyze: wall min {min(walls):.3f} s, median {statistics.median(walls):.3f} s;"
                f" CPU median {statistics.median(c for _, c in runs):.3f} s"
            )
            for label, wall, cpu in stages(path):
                print(f"    {label:26s} {wall:7.3f} s wall {cpu:7.3f} s CPU")
            path.unlink()


if __name__ == "__main__":
    main()
