"""``spyne query "SQL"``: preview, confirm, execute, print — through the gateway, as yourself.

``--format table|json`` runs the preview through ``executeQuery`` (at most SPYNE_MAX_ROWS rows).
``--format csv|ndjson|arrow`` downloads every row through ``POST /previews/{id}/result`` and
streams it to ``--output FILE`` (or stdout), with a progress line — rows, bytes, elapsed — on stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import time
from collections.abc import Iterator
from typing import IO, Any, TextIO, cast

from rich.console import Console
from rich.table import Table

from gateway.cli import command, fail
from gateway.client import MEDIA_TYPES, ChunkReader, Result, SpyneClient, SpyneError, render_preview

STREAMED_FORMATS = tuple(MEDIA_TYPES)  # csv, ndjson, arrow: every row, through the download


def _query_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("sql", help="one read-only SQL query, in quotes")
    p.add_argument("--yes", "-y", action="store_true", help="run without asking (guardrail overrides still needed)")
    p.add_argument("--format", choices=["table", "json", *STREAMED_FORMATS], default="table",
                   help="table and json: the interactive result (SPYNE_MAX_ROWS rows); csv, ndjson and arrow: "
                        "every row, streamed")
    p.add_argument("--output", "-o", metavar="FILE",
                   help="write the result here (default: stdout; arrow needs a file or a pipe)")
    p.add_argument("--dialect", help="the dialect you wrote in (default: the warehouse's)")
    p.add_argument("--pin", action="append", default=[], metavar="TABLE=VERSION",
                   help="pin a table version (repeatable), e.g. --pin orders=1")
    p.add_argument("--override", action="append", default=[], metavar="GUARDRAIL",
                   help="override a blocking guardrail (repeatable), e.g. --override CARTESIAN_PRODUCT")
    p.add_argument("--url", help="GraphQL endpoint (default $SPYNE_URL or http://127.0.0.1:8000/graphql)")
    p.add_argument("--token", help="bearer token (default $SPYNE_TOKEN)")


def _pins(values: list[str]) -> dict[str, int]:
    pins: dict[str, int] = {}
    for value in values:
        table, _, version = value.partition("=")
        if not table or not version.lstrip("v").isdigit():
            raise ValueError(f"--pin takes TABLE=VERSION, got {value!r}")
        pins[table] = int(version.lstrip("v"))
    return pins


@command("query", "preview, confirm and execute a query", _query_args)
def query_cmd(args: argparse.Namespace) -> int:
    try:
        pins = _pins(args.pin)
    except ValueError as exc:
        return fail(str(exc), 2)
    if args.format == "arrow" and not args.output and sys.stdout.isatty():
        return fail("Arrow is binary: pass --output FILE (or pipe the output).", 2)
    with SpyneClient(args.url, args.token) as client, _opened(args.output) as target:
        return run_query(client, args.sql, pins=pins, dialect=args.dialect, overrides=args.override,
                         assume_yes=args.yes, output_format=args.format, out=sys.stdout, err=sys.stderr,
                         answer=sys.stdin, target=target)


@contextlib.contextmanager
def _opened(path: str | None) -> Iterator[IO[bytes] | None]:
    if path is None:
        yield None
        return
    with open(path, "wb") as handle:
        yield handle


def run_query(client: SpyneClient, sql: str, *, pins: dict[str, int], dialect: str | None,
              overrides: list[str], assume_yes: bool, output_format: str, out: TextIO, err: TextIO,
              answer: TextIO, target: IO[bytes] | None = None) -> int:
    """``target``: where a streamed format goes (default: ``out``'s bytes)."""
    try:
        preview = client.preview(sql, dialect=dialect, pins=pins)
    except SpyneError as exc:
        return _error(exc, err)
    print(render_preview(preview.data), file=err)
    overrides = [o.upper() for o in overrides]
    missing = [g for g in preview.needs_override if g not in overrides]
    if missing:
        print(f"\nBlocked: rerun with {' '.join('--override ' + m for m in missing)} if you mean it.", file=err)
        return 3
    if not assume_yes:
        if not answer.isatty() and answer is sys.stdin:
            print("\nNot a terminal: pass --yes to run without asking.", file=err)
            return 4
        print("\nRun this query? [y/N] ", end="", file=err, flush=True)
        if answer.readline().strip().lower() not in ("y", "yes"):
            print("Not run.", file=err)
            return 1
    if output_format in STREAMED_FORMATS:
        sink = target if target is not None else _binary(out)
        try:
            download(client, preview.id, output_format, overrides, sink, err)
        except SpyneError as exc:
            return _error(exc, err)
        return 0
    try:
        result = preview.execute(overrides)
    except SpyneError as exc:
        return _error(exc, err)
    if output_format == "table":
        _print_table(result, out)
    else:
        out.write(format_result(result, output_format))
    note = " (truncated at the row cap: --format csv, ndjson or arrow downloads every row)" if result.truncated else ""
    print(f"{len(result.rows)} rows in {result.elapsed_ms:.1f} ms{note}", file=err)
    return 0


def download(client: SpyneClient, preview_id: str, output_format: str, overrides: list[str], sink: IO[bytes],
             err: TextIO) -> tuple[int | None, int]:
    """Stream the full result into ``sink``, a live progress line on ``err``. Returns (rows, bytes)."""
    console = Console(file=err, highlight=False)
    progress = Progress()
    with client.download(preview_id, MEDIA_TYPES[output_format], overrides) as response, \
            console.status("starting…") as status:
        execution = response.headers.get("spyne-execution-id", "?")

        def passed(chunk: bytes) -> None:
            sink.write(chunk)
            progress.bytes += len(chunk)
            status.update(progress.line())

        chunks = response.iter_bytes()
        if output_format == "arrow" and _pyarrow() is not None:
            # Rows of an Arrow stream are counted by reading it as it passes on to the sink.
            reader = _pyarrow().ipc.open_stream(io.BufferedReader(ChunkReader(chunks, passed), 1 << 16))
            for batch in reader:
                progress.rows = (progress.rows or 0) + batch.num_rows
            for chunk in chunks:  # anything after the end-of-stream marker
                passed(chunk)
        else:
            counter = RowCounter(output_format)
            for chunk in chunks:
                counter.feed(chunk)
                progress.rows = counter.rows
                passed(chunk)
    sink.flush()
    console.print(f"{progress.line()} — done (execution {execution})")
    return progress.rows, progress.bytes


class Progress:
    def __init__(self) -> None:
        self.rows: int | None = None
        self.bytes = 0
        self.started = time.perf_counter()

    def line(self) -> str:
        counted = f"{self.rows:,} rows" if self.rows is not None else "rows (not counted)"
        return f"{counted} in {time.perf_counter() - self.started:.1f} s, {_size(self.bytes)}"


def _size(size: int) -> str:
    value = float(size)
    for unit in ("B", "kB", "MB"):
        if value < 1000:
            return f"{value:.0f} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.2f} GB"


def _pyarrow() -> Any:
    try:
        import pyarrow
        import pyarrow.ipc
    except ImportError:
        return None
    return pyarrow


class RowCounter:
    """Rows of a CSV or NDJSON body, counted as the bytes pass (CSV: newlines outside quotes, less the header)."""

    def __init__(self, output_format: str) -> None:
        self._csv = output_format == "csv"
        self._lines = 0
        self._in_quotes = False

    @property
    def rows(self) -> int:
        return max(self._lines - 1, 0) if self._csv else self._lines

    def feed(self, chunk: bytes) -> None:
        if not self._csv or (b'"' not in chunk and not self._in_quotes):
            self._lines += chunk.count(b"\n")
            return
        for index, piece in enumerate(chunk.split(b'"')):
            if index:
                self._in_quotes = not self._in_quotes
            if not self._in_quotes:
                self._lines += piece.count(b"\n")


def _binary(out: TextIO) -> IO[bytes]:
    buffer = getattr(out, "buffer", None)
    if buffer is not None:
        out.flush()
        return buffer  # type: ignore[no-any-return]
    return cast(IO[bytes], _TextSink(out))


class _TextSink(io.RawIOBase):
    """A text stream (a test's StringIO) taking bytes: decoded as UTF-8 (an Arrow stream needs a file)."""

    def __init__(self, out: TextIO) -> None:
        self._out = out

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._out.write(bytes(data).decode("utf-8", errors="surrogateescape"))
        return len(data)


def _error(exc: SpyneError, err: TextIO) -> int:
    where = ""
    if "line" in exc.extensions:
        where = f" (line {exc.extensions['line']}, column {exc.extensions.get('column')})"
    print(f"spyne: {exc.code}: {exc.message}{where}", file=err)
    return 2


def format_result(result: Result, output_format: str) -> str:
    """The interactive result as JSON (``--format json``)."""
    return json.dumps(result.to_dicts(), indent=2, default=str) + "\n"


def _print_table(result: Result, out: TextIO) -> None:
    table = Table(show_edge=False, header_style="bold")
    numeric = [all(_numeric(_cell(r[i])) for r in result.rows) and bool(result.rows)
               for i in range(len(result.column_names))]
    for name, right in zip(result.column_names, numeric, strict=True):
        table.add_column(name, justify="right" if right else "left", overflow="fold")
    for row in result.rows:
        table.add_row(*(_cell(v) for v in row))
    # Not a terminal (a pipe, a file): as wide as the table needs, no colours.
    terminal = out.isatty()
    Console(file=out, highlight=False, width=None if terminal else 100_000, no_color=not terminal).print(table)


def _cell(value: Any) -> str:
    return "NULL" if value is None else str(value)


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
