"""Time the netra_runs_by_state query at a million runs on PostgreSQL, with and without
the partial index of migration 0002 (docs/deployment.md, "Sizing").

``python bench/runs_by_state.py [RUNS] [ACTIVE]`` creates a scratch database on the local
PostgreSQL, migrates it to 0001, stores RUNS runs of which ACTIVE are queued or running,
times the query, migrates to head (timing the index build) and times it again.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
import uuid

import asyncpg

from netra.db.migrate import upgrade

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
QUERY = "SELECT status, count(*) FROM runs WHERE status IN ('queued', 'running') GROUP BY status"
USER = "INSERT INTO users VALUES ('u', 'u@example.com', 'u', NULL, now())"
THREADS = (
    "INSERT INTO threads SELECT 't' || i, 'u', 't', now(), now() FROM generate_series(0, $1 - 1) i"
)
RUNS = """
INSERT INTO runs (id, user_id, thread_id, message, status, attempt, created_at)
SELECT 'r' || i, 'u', 't' || ((i / ($3 / $2)) % $1), 'how much did we spend?',
       CASE WHEN i % ($3 / $2) = 0
            THEN (CASE WHEN (i / ($3 / $2)) % 2 = 0 THEN 'queued' ELSE 'running' END)
            ELSE (ARRAY['completed', 'completed', 'completed', 'failed', 'cancelled'])[i % 5 + 1]
       END,
       1, now()
FROM generate_series(1, $3) i
"""


# For comparison: counting every state, terminal ones included, reads the whole table.
EVERY_STATE = "SELECT status, count(*) FROM runs GROUP BY status"


async def timed(conn: asyncpg.Connection, query: str, repeats: int) -> tuple[float, str]:
    await conn.execute("VACUUM ANALYZE runs")
    await conn.fetch(query)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        await conn.fetch(query)
        times.append((time.perf_counter() - started) * 1000)
    plan = await conn.fetch("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + query)
    return statistics.median(times), "\n".join(row[0] for row in plan)


async def fill(dsn: str, runs: int, active: int) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        # Threads: one per active run at least (one active run per thread), at most 10k.
        threads = max(active, min(runs, 10_000))
        started = time.perf_counter()
        await conn.execute(USER)
        await conn.execute(THREADS, threads)
        await conn.execute(RUNS, threads, active, runs)
        print(f"stored {runs} runs ({active} active) in {time.perf_counter() - started:.1f} s")
    finally:
        await conn.close()


async def measure(dsn: str, query: str = QUERY, repeats: int = 50) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        median, plan = await timed(conn, query, repeats)
        print(f"median {median:.3f} ms\n{plan}")
    finally:
        await conn.close()


def main(runs: int = 1_000_000, active: int = 1_000) -> None:
    name = f"netra_bench_{uuid.uuid4().hex[:8]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(ADMIN)
        await conn.execute(sql)
        await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    dsn = f"postgresql://postgres@127.0.0.1:5432/{name}"
    try:
        upgrade(f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}", "0001")
        asyncio.run(fill(dsn, runs, active))
        print("-- every state counted (not what the metric does)")
        asyncio.run(measure(dsn, EVERY_STATE, 5))
        print("-- without ix_runs_active_status (migration 0001)")
        asyncio.run(measure(dsn))
        started = time.perf_counter()
        upgrade(f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}")
        print(f"-- migration 0002 (the index build) took {time.perf_counter() - started:.2f} s")
        asyncio.run(measure(dsn))
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    arguments = [int(value) for value in sys.argv[1:3]]
    main(*arguments)
