#!/usr/bin/env bash
# Install everything the tests need into .venv and run them all:
# lint, then every tier on SQLite, then the database-backed tiers again on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'

.venv/bin/ruff check src tests bench
.venv/bin/ruff format --check src tests bench
.venv/bin/mypy

echo "== tests on SQLite (unit, integration, e2e, browser)"
.venv/bin/python -m pytest -q "$@"

echo "== integration and e2e tests again on PostgreSQL"
.venv/bin/python -m pytest -q --db postgresql tests/integration tests/e2e "$@"
