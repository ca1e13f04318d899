"""Ingestion benchmark: 10M canonical rows from Parquet and from CSV, speed and peak memory.

Generates (once, cached under ``bench/out/``) the demo dataset with
``netra.analytics.demo.generator.write_demo`` as a canonical Parquet file (without the derived
``prompt_key`` of a stored dataset), and the same rows as a canonical CSV (ISO timestamps,
``true``/``false``). Then, for each file, runs ``ingest_file`` in a child process and
reports

- wall time of ``ingest_file`` inside the child, and rows/s;
- CPU seconds (user + system) and peak resident memory of the child, read with
  ``resource.getrusage(RUSAGE_CHILDREN)`` by a fresh intermediate process, so each figure
  belongs to one ingestion only;
- an order check: ``sum(row_no * input_tokens)`` of the ingested file equals the source's,
  so every row kept its position (``row_no``) and its values.

The machine's load average is printed first: on a shared 2-core machine, wall times rise
with other work while CPU seconds stay close.

    python bench/ingest.py                  # 10M rows
    python bench/ingest.py --rows 1000000   # quicker
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

OUT = Path(__file__).parent / "out"


def generate(rows: int, seed: int) -> tuple[Path, Path]:
    """The canonical Parquet and CSV files of ``rows`` demo rows (cached by size and seed):
    the demo's columns without the ``prompt_key`` a stored dataset adds, as uploads have."""
    from netra.analytics.demo.generator import write_demo

    OUT.mkdir(parents=True, exist_ok=True)
    parquet = OUT / f"canonical-{rows}-{seed}.parquet"
    csv = OUT / f"canonical-{rows}-{seed}.csv"
    if not parquet.exists():
        started = time.perf_counter()
        stored = OUT / f"stored-{rows}-{seed}.parquet"
        write_demo(stored, rows, seed)
        canonical_copy(stored, parquet)
        stored.unlink()
        print(f"generated {parquet.name} in {time.perf_counter() - started:.1f} s", flush=True)
    if not csv.exists():
        started = time.perf_counter()
        with duckdb.connect() as con:
            con.execute("SET enable_progress_bar = false")
            con.execute(
                f"COPY (SELECT * EXCLUDE (row_no) FROM read_parquet('{parquet}') ORDER BY row_no) "
                f"TO '{csv}' (HEADER, TIMESTAMPFORMAT '%Y-%m-%dT%H:%M:%S.%fZ')"
            )
        print(f"generated {csv.name} in {time.perf_counter() - started:.1f} s", flush=True)
    return parquet, csv


def canonical_copy(stored: Path, dest: Path) -> None:
    """The canonical columns of the stored dataset ``stored``, written as the demo writes."""
    from netra.analytics.ingest.writer import WRITE_OPTIONS
    from netra.analytics.schema import COLUMN_NAMES

    source = pq.ParquetFile(stored)
    schema = pa.schema([source.schema_arrow.field(name) for name in COLUMN_NAMES])
    with pq.ParquetWriter(dest, schema, **WRITE_OPTIONS) as writer:
        for group in range(source.num_row_groups):
            writer.write_table(source.read_row_group(group, columns=list(COLUMN_NAMES)))


def checksum(path: Path) -> tuple[int, int]:
    """(rows, sum(row_no * input_tokens)): equal only if every row kept its position."""
    with duckdb.connect() as con:
        count, total = con.execute(
            f"SELECT count(*), sum(row_no::HUGEINT * input_tokens) FROM read_parquet('{path}')"
        ).fetchone()
    return int(count), int(total)


def ingest_child(src: str, dest: str) -> None:
    """In the child: ingest and print the result and the wall time as JSON."""
    from netra.analytics.ingest.pipeline import ingest_file

    started = time.perf_counter()
    result = ingest_file(Path(src), Path(dest))
    seconds = time.perf_counter() - started
    print(json.dumps({"rows": result.rows, "format": result.format, "seconds": seconds}))


def measure_child(src: str, dest: str) -> None:
    """In the intermediate process: run one ingestion child, add its rusage, print JSON."""
    done = subprocess.run(
        [sys.executable, __file__, "--ingest-child", src, dest],
        check=True,
        capture_output=True,
        text=True,
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    report["cpu_seconds"] = usage.ru_utime + usage.ru_stime
    report["peak_rss_mb"] = usage.ru_maxrss / 1024  # Linux: kilobytes
    print(json.dumps(report))


def measure(src: Path) -> dict[str, float]:
    dest = OUT / f"ingested-{src.suffix.lstrip('.')}.parquet"
    dest.unlink(missing_ok=True)
    done = subprocess.run(
        [sys.executable, __file__, "--measure-child", str(src), str(dest)],
        check=True,
        capture_output=True,
        text=True,
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    report["checksum_ok"] = checksum(dest) == checksum_source(src)
    dest.unlink(missing_ok=True)
    return report


_SOURCE_CHECKSUMS: dict[Path, tuple[int, int]] = {}


def checksum_source(src: Path) -> tuple[int, int]:
    parquet = src.with_suffix(".parquet")
    if parquet not in _SOURCE_CHECKSUMS:
        _SOURCE_CHECKSUMS[parquet] = checksum(parquet)
    return _SOURCE_CHECKSUMS[parquet]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--ingest-child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--measure-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.ingest_child:
        return ingest_child(*args.ingest_child)
    if args.measure_child:
        return measure_child(*args.measure_child)

    parquet, csv = generate(args.rows, args.seed)
    print(f"cpus {os.cpu_count()}, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'source':8} {'MB':>7} {'rows':>11} {'wall s':>7} {'rows/s':>10} "
          f"{'cpu s':>6} {'peak RSS MB':>11}  order")  # fmt: skip
    for src in (parquet, csv):
        r = measure(src)
        print(
            f"{r['format']:8} {src.stat().st_size / 1e6:7.0f} {r['rows']:11,} "
            f"{r['seconds']:7.1f} {r['rows'] / r['seconds']:10,.0f} {r['cpu_seconds']:6.1f} "
            f"{r['peak_rss_mb']:11.0f}  {'ok' if r['checksum_ok'] else 'MISMATCH'}",
            flush=True,
        )


if __name__ == "__main__":
    main()
