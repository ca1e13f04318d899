"""The ``netra`` command: serve, migrate, ingest, eval, worker (one module per command)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import date
from pathlib import Path

from netra.config import SettingsError, load_settings, prepare_data_dir
from netra.log import configure_logging


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="netra", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    server = commands.add_parser("serve", help="run the whole product in one process")
    server.add_argument("--host", help="address to listen on (NETRA_HOST, default 127.0.0.1)")
    server.add_argument("--port", type=int, help="port to listen on (NETRA_PORT, default 8000)")
    commands.add_parser("migrate", help="apply database migrations to NETRA_DATABASE_URL")
    ingest_parser = commands.add_parser("ingest", help="import a usage file for a user")
    ingest_parser.add_argument("file", type=Path)
    ingest_parser.add_argument("--email", required=True, help="the account that owns the data")
    ingest_parser.add_argument("--name", help="dataset name (default: the file name)")
    evaluate = commands.add_parser(
        "eval", help="score how questions are understood (the parser, and a configured model)"
    )
    evaluate.add_argument("bank", nargs="?", type=Path, help="a question bank (default: shipped)")
    evaluate.add_argument("--dataset", type=Path, help="resolve names against this Parquet file")
    evaluate.add_argument(
        "--misses", action="store_true", help="list each question read wrong, and how"
    )
    evaluate.add_argument(
        "--today", type=date.fromisoformat, help="the day relative windows count from"
    )
    work = commands.add_parser("worker", help="execute runs from the distributed queue")
    work.add_argument(
        "--concurrency", type=int, help="runs executed at once (NETRA_WORKER_CONCURRENCY, 10)"
    )
    args = parser.parse_args(argv)

    try:
        settings = prepare_data_dir(load_settings())
    except SettingsError as exc:
        print(f"netra: configuration error: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, json=settings.json_logs)

    if args.command == "migrate":
        from netra.cli.migrate import migrate

        return migrate(settings)
    if args.command == "serve":
        from netra.cli.serve import serve

        if args.host:
            settings = settings.model_copy(update={"host": args.host})
        if args.port is not None:
            settings = settings.model_copy(update={"port": args.port})
        return serve(settings)
    if args.command == "ingest":
        from netra.cli.ingest import ingest
        from netra.cli.migrate import migrate

        migrate(settings)
        return asyncio.run(ingest(settings, args.file, args.email, args.name))
    if args.command == "eval":
        from netra.cli.eval import evaluate_questions

        return evaluate_questions(settings, args.bank, args.dataset, args.today, args.misses)
    from netra.cli.worker import worker

    if args.concurrency is not None and args.concurrency < 1:
        parser.error("--concurrency must be at least 1")
    return worker(settings, args.concurrency)
