"""The database seam: SQLite (embedded) or PostgreSQL, one schema, one set of queries."""

from netra.db.engine import Database, Rows

__all__ = ["Database", "Rows"]
