"""The examples of README.md and docs/ work as written.

- Every GraphQL operation of every ```graphql block parses and validates against the schema the
  server serves (field and argument names, types, enums): renamed fields cannot hide in the docs.
- The query-trust examples (previews, executions, corrections, validation, completion,
  formatting, catalog reads) run against the demo catalog without an error, on SQLite and
  PostgreSQL catalogs; a ``"…"`` or ``"<the id above>"`` preview id is the preview made just before.
- Every ``spyne query`` line of a ```sh block runs against a live server and exits 0.

Examples that change lifecycle state, need ingestion mode or ids of earlier state (joins,
contracts, backfills) are validated, not run: their behaviour is tested where it lives.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest
from graphql import parse, validate

from gateway.auth import mint_dev_token
from gateway.cli import main
from gateway.graphql.schema import build_schema
from gateway.warehouse.demo_data import DemoSummary
from tests.support.harness import DEV_SECRET, Gateway
from tests.support.live import LiveServer, demo_live_server

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
RUNNABLE = frozenset({"me", "systemMode", "tables", "table", "previewQuery", "executeQuery", "correctQuery",
                      "validateQuery", "completeQuery", "formatQuery", "queryPreview"})
# Pages whose examples read state the demo catalog does not have (an ingested contract's tables).
STATEFUL_PAGES = ("ingestion.md", "drift-and-versioning.md")
PLACEHOLDER_ID = re.compile(r'(previewId|id): "(…|<the id above>)"')


def _blocks(language: str) -> list[tuple[str, str]]:
    found = []
    for doc in DOCS:
        text = doc.read_text()
        for i, match in enumerate(re.finditer(rf"^\s*```{language}\n(.*?)^\s*```", text, re.S | re.M)):
            found.append((f"{doc.name}#{i}", match.group(1)))
    return found


def _operations(block: str) -> list[str]:
    """Split a block into its top-level operations (braces outside strings and comments)."""
    operations, depth, start, i, in_string = [], 0, None, 0, False
    while i < len(block):
        ch = block[i]
        if in_string:
            in_string = not (ch == '"' and block[i - 1] != "\\")
        elif ch == '"':
            in_string = True
        elif ch == "#":
            i = block.find("\n", i) if "\n" in block[i:] else len(block)
            continue
        elif ch == "{":
            if depth == 0 and start is None:
                line_start = block.rfind("\n", 0, i) + 1
                start = line_start
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0 and start is not None:
                operations.append(block[start:i + 1].strip())
                start = None
        i += 1
    return operations


GRAPHQL = [(f"{name}:{j}", op) for name, block in _blocks("graphql") for j, op in enumerate(_operations(block))]
SCHEMA = build_schema()


def _root_fields(operation: str) -> set[str]:
    document = parse(operation)
    return {sel.name.value for d in document.definitions for sel in d.selection_set.selections}  # type: ignore[attr-defined]


def test_the_docs_have_graphql_examples() -> None:
    assert len(GRAPHQL) >= 30


@pytest.mark.parametrize("operation", [op for _, op in GRAPHQL], ids=[i for i, _ in GRAPHQL])
def test_graphql_example_validates_against_the_schema(operation: str) -> None:
    errors = validate(SCHEMA._schema, parse(operation))
    assert not errors, [e.message for e in errors]


async def test_query_trust_examples_run_on_the_demo_catalog(gateway: Gateway) -> None:
    preview_id = None
    ran = 0
    for name, operation in GRAPHQL:
        if not _root_fields(operation) <= RUNNABLE or "select:" in operation or name.startswith(STATEFUL_PAGES):
            continue
        if PLACEHOLDER_ID.search(operation):
            assert preview_id, f"{name} needs a preview made before it"
            operation = PLACEHOLDER_ID.sub(rf'\1: "{preview_id}"', operation)
        body = await gateway.gql(operation, role="ADMIN")
        assert not body.get("errors"), f"{name}: {body.get('errors')}\n{operation}"
        data = body["data"]
        for field in ("previewQuery", "correctQuery"):
            if field in data:
                preview_id = data[field]["id"]
        ran += 1
    assert ran >= 8


def _spyne_query_lines() -> list[tuple[str, list[str]]]:
    found = []
    for name, block in _blocks("sh"):
        for line in block.splitlines():
            line = line.split(" #")[0].strip()
            if re.match(r"^(\.venv/bin/)?spyne query ", line):
                argv = shlex.split(line.split(" > ")[0])[1:]
                found.append((f"{name}:{argv[1][:40]}", argv))
    return found


SPYNE_QUERIES = _spyne_query_lines()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path,
         demo_warehouse: DemoSummary) -> Iterator[LiveServer]:
    with demo_live_server(tmp_path_factory.mktemp("docs"), sqlite_template, demo_warehouse) as server:
        yield server


def test_the_docs_have_spyne_query_examples() -> None:
    assert len(SPYNE_QUERIES) >= 4


@pytest.mark.parametrize("argv", [a for _, a in SPYNE_QUERIES], ids=[i for i, _ in SPYNE_QUERIES])
def test_spyne_query_example_runs(argv: list[str], live: LiveServer, capsys: pytest.CaptureFixture[str],
                                  tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # an example's --output FILE lands here, not in the checkout
    token = mint_dev_token(DEV_SECRET, "ana@example.com", "ANALYST", 600)
    if "--yes" not in argv:
        argv = [*argv, "--yes"]  # the example asks at a terminal; the test answers yes
    code = main([*argv, "--url", f"{live.url}/graphql", "--token", token])
    _, err = capsys.readouterr()
    assert code == 0, err
