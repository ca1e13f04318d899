"""A run's event log: its rows, numbered by ``seq``. Units of work.

Only the runtime's ``Emitter`` builds event rows; this module stores and reads them.
"""

from __future__ import annotations

import json

from sqlalchemy import Connection, bindparam, func, insert, select

from netra.db.tables import RunEvent

# Prebuilt statements: the hot path binds parameters instead of building SQL per call.
insert_event = insert(RunEvent)
_last_seq = select(func.max(RunEvent.seq)).where(RunEvent.run_id == bindparam("run"))
_events_after = (
    select(RunEvent.seq, RunEvent.type, RunEvent.body)
    .where(RunEvent.run_id == bindparam("run"), RunEvent.seq > bindparam("after"))
    .order_by(RunEvent.seq)
)


def last_seq(conn: Connection, run_id: str) -> int:
    return conn.scalar(_last_seq, {"run": run_id}) or 0


def events_after(conn: Connection, run_id: str, after_seq: int) -> list[tuple[int, str, str]]:
    """(seq, type, wire JSON) of every stored event of the run with seq > after_seq."""
    rows = conn.execute(_events_after, {"run": run_id, "after": after_seq})
    return [(row.seq, row.type, row.body) for row in rows]


def open_agent(conn: Connection, run_id: str) -> str | None:
    """The agent that had started and not completed when the run was lost, if any."""
    agent = None
    for _, kind, body in events_after(conn, run_id, 0):
        if kind in {"agent_started", "agent_completed"}:
            agent = json.loads(body)["data"]["agent"] if kind == "agent_started" else None
    return agent
