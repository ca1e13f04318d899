"""Alembic environment: runs migrations over the project's async engine."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from netra.db.tables import Base

target_metadata = Base.metadata
# PostgreSQL advisory lock held while migrating: processes starting at once take turns.
MIGRATION_LOCK = 0x6E657472614D47  # "netraMG"


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = create_async_engine(context.config.get_main_option("sqlalchemy.url") or "")
    async with engine.connect() as connection:
        locks = connection.dialect.name == "postgresql"
        key = {"key": MIGRATION_LOCK}
        if locks:  # session-level: the next process waits, then finds the schema at head
            await connection.execute(text("select pg_advisory_lock(:key)"), key)
        await connection.run_sync(_run)
        await connection.commit()
        if locks:
            await connection.execute(text("select pg_advisory_unlock(:key)"), key)
            await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=context.config.get_main_option("sqlalchemy.url"), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_async())
