"""``spyne query "SQL"``: preview, confirm, execute, print — through the gateway, as yourself."""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from typing import Any, TextIO

from gateway.cli import command, fail
from gateway.client import Result, SpyneClient, SpyneError, render_preview


def _query_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("sql", help="one read-only SQL query, in quotes")
    p.add_argument("--yes", "-y", action="store_true", help="run without asking (guardrail overrides still needed)")
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")
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
    with SpyneClient(args.url, args.token) as client:
        return run_query(client, args.sql, pins=pins, dialect=args.dialect, overrides=args.override,
                         assume_yes=args.yes, output_format=args.format, out=sys.stdout, err=sys.stderr,
                         answer=sys.stdin)


def run_query(client: SpyneClient, sql: str, *, pins: dict[str, int], dialect: str | None,
              overrides: list[str], assume_yes: bool, output_format: str, out: TextIO, err: TextIO,
              answer: TextIO) -> int:
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
    try:
        result = preview.execute(overrides)
    except SpyneError as exc:
        return _error(exc, err)
    out.write(format_result(result, output_format))
    note = " (truncated at the row cap)" if result.truncated else ""
    print(f"{len(result.rows)} rows in {result.elapsed_ms:.1f} ms{note}", file=err)
    return 0


def _error(exc: SpyneError, err: TextIO) -> int:
    where = ""
    if "line" in exc.extensions:
        where = f" (line {exc.extensions['line']}, column {exc.extensions.get('column')})"
    print(f"spyne: {exc.code}: {exc.message}{where}", file=err)
    return 2


def format_result(result: Result, output_format: str) -> str:
    if output_format == "json":
        return json.dumps(result.to_dicts(), indent=2, default=str) + "\n"
    if output_format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(result.column_names)
        writer.writerows(result.rows)
        return buffer.getvalue()
    return _table(result.column_names, result.rows)


def _table(names: list[str], rows: list[list[Any]]) -> str:
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(n), *(len(r[i]) for r in cells)]) for i, n in enumerate(names)]
    line = "-+-".join("-" * w for w in widths)
    header = " | ".join(n.ljust(w) for n, w in zip(names, widths, strict=True))
    body = [" | ".join(c.rjust(w) if _numeric(c) else c.ljust(w) for c, w in zip(r, widths, strict=True))
            for r in cells]
    return "\n".join([header, line, *body]) + "\n"


def _cell(value: Any) -> str:
    return "NULL" if value is None else str(value)


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
