"""``spyne ingest FILE --contract ID`` and ``spyne backfill …`` (dry run, confirm, progress bar).

Shell access is trusted like an admin (see ``gateway.cli.cli_principal``); the system mode
still applies: ingestion needs INGESTION_READY.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

from gateway.cli import cli_principal, command, fail, with_services

READ_CHUNK = 1 << 20


def _ingest_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="an NDJSON file, or - for standard input")
    p.add_argument("--contract", required=True, help="the contract id (its table's name)")


@command("ingest", "ingest an NDJSON file into a contract's SHADOW version", _ingest_args)
def ingest_cmd(args: argparse.Namespace) -> int:
    from gateway.errors import GatewayError
    from gateway.http.ingest import ndjson_batches

    async def chunks() -> AsyncIterator[bytes]:
        handle = sys.stdin.buffer if args.file == "-" else open(args.file, "rb")  # noqa: SIM115
        try:
            while block := await asyncio.to_thread(handle.read, READ_CHUNK):
                yield block
        finally:
            if handle is not sys.stdin.buffer:
                handle.close()

    async def run(services: Any) -> int:
        result = await services.ingestion.ingest_stream(cli_principal(), args.contract, ndjson_batches(chunks()),
                                                        source="cli")
        print(f"run {result.run_id}: {result.accepted:,} accepted, {result.duplicates:,} duplicates, "
              f"{result.quarantined:,} quarantined")
        for error in result.errors[:10]:
            print(f"  {error}")
        return 0

    try:
        return int(asyncio.run(with_services(run)))
    except (GatewayError, OSError) as exc:
        return fail(getattr(exc, "message", str(exc)))


def _backfill_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--contract", required=True)
    source = p.add_mutually_exclusive_group()
    source.add_argument("--path", help="a file under SPYNE_ARCHIVE_DIR (NDJSON, CSV or Parquet)")
    source.add_argument("--table", help="a catalog table to copy from")
    p.add_argument("--format", choices=["NDJSON", "CSV", "PARQUET"], type=str.upper)
    p.add_argument("--from", dest="start", help="start of the event-time range (ISO 8601 with zone)")
    p.add_argument("--to", dest="end", help="end of the range, exclusive")
    p.add_argument("--batch-size", type=int, default=1000)
    p.add_argument("--dedupe", choices=["IDEMPOTENCY_KEY", "CONTRACT"], default=None, type=str.upper)
    p.add_argument("--yes", action="store_true", help="confirm without asking after the dry run")
    p.add_argument("--resume", metavar="OPERATION_ID", help="carry on an interrupted backfill")


@command("backfill", "backfill a contract from the archive or a table: dry run, confirm, progress", _backfill_args)
def backfill_cmd(args: argparse.Namespace) -> int:
    from gateway.errors import GatewayError

    async def run(services: Any) -> int:
        operation_id = args.resume
        if operation_id is None:
            if not (args.path or args.table) or not args.start or not args.end or not args.dedupe:
                return fail("give --path or --table, --from, --to and --dedupe (or --resume OPERATION_ID)", 2)
            preview = await services.replay.backfill(
                cli_principal(), args.contract, start=_time(args.start), end=_time(args.end),
                dedupe_strategy=args.dedupe, path=args.path, format=args.format, table=args.table,
                batch_size=args.batch_size, preview_rows=5)
            print(f"dry run {preview.operation_id}: {preview.estimated_rows:,} records in range, "
                  f"{preview.estimated_new_rows:,} new, {preview.estimated_duplicates:,} duplicates, "
                  f"{preview.estimated_quarantined:,} to quarantine")
            for row in preview.preview:
                print(f"  {row}")
            if not args.yes and not _ask("carry it out? [y/N] "):
                print(f"not carried out; later: spyne backfill --contract {args.contract} "
                      f"--resume {preview.operation_id}")
                return 1
            operation_id = preview.operation_id
            total = preview.estimated_rows
        else:
            total = 0
        bar = ProgressBar(total)
        result = await services.replay.confirm(cli_principal(), operation_id, progress=bar.update)
        bar.finish()
        print(f"{result.status}: {result.batches} batches ({result.batches_resumed} resumed), "
              f"{result.accepted:,} written, {result.duplicates:,} duplicates, {result.quarantined:,} quarantined")
        return 0

    try:
        return int(asyncio.run(with_services(run)))
    except GatewayError as exc:
        return fail(exc.message)


def _time(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise SystemExit(f"spyne: {text!r} is not an ISO 8601 time") from None


def _ask(prompt: str) -> bool:
    if not sys.stdin.isatty():
        return False
    return input(prompt).strip().lower() in ("y", "yes")


class ProgressBar:
    """rich's progress bar on stderr: rows, percentage, rate and batch (counts only when the total
    is unknown). On a terminal it redraws in place; elsewhere (a log, a pipe) rich prints the
    final state once instead of a line per update."""

    def __init__(self, total: int) -> None:
        columns: list[ProgressColumn] = [TextColumn("[bold]backfill")]
        if total:
            columns += [BarColumn(), TaskProgressColumn(text_format="[progress.percentage]{task.percentage:>5.1f}%")]
        columns += [MofNCompleteColumn() if total else TextColumn("{task.completed:,} rows"),
                    TextColumn("batch {task.fields[batch]}"), TextColumn("{task.fields[rate]:,.0f} rows/s"),
                    TimeElapsedColumn()]
        self.started = time.monotonic()
        self._progress = Progress(*columns, console=Console(stderr=True))
        self._task = self._progress.add_task("backfill", total=total or None, batch=0, rate=0.0)
        self._progress.start()

    def update(self, progress: Any) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        self._progress.update(self._task, completed=progress.rows_done, batch=progress.batches_done,
                              rate=progress.rows_done / elapsed)

    def finish(self) -> None:
        self._progress.stop()
