"""Hostile values, bytes and names (issue 14, items 3, 5 and 9), each as a class.

- A value no column can hold — a timestamp out of range once converted to UTC, an integer too
  large for a DOUBLE, NaN or NUL or a lone surrogate in JSON or text, an oversized key — is its
  record's problem: the record is quarantined with its reason, the good records of the same batch
  are written, and nothing else moves (NDJSON and the GraphQL ``ingest`` mutation alike).
- A line that is not UTF-8 is quarantined with its bytes base64-encoded, never "repaired".
- The system mode stops a stream mid-way: after an admin's switch to READ_ONLY, nothing moves.
- ``registerTable`` reads a physical name as the warehouse does before any check: the gateway's
  own spaces and every system catalog are refused in every spelling, and one warehouse table is
  registered once.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.ingestion.conftest import INGEST
from tests.security.snapshot import Counter, unchanged
from tests.support.harness import Gateway

AT = "2025-03-01T10:00:00Z"
DOCS_CONTRACT = """mutation($input: RegisterContractInput!) { registerContract(input: $input) { id } }"""
QUARANTINE = """query { quarantine(contractId: "docs") { lineNumber reason raw } }"""


def docs_contract() -> dict[str, Any]:
    """A contract with a column of every type and a TEXT key."""
    return {
        "table": "docs",
        "columns": [
            {"name": "id", "type": "TEXT", "nullable": False},
            {"name": "n", "type": "INTEGER"}, {"name": "big", "type": "BIGINT"},
            {"name": "x", "type": "DOUBLE"}, {"name": "flag", "type": "BOOLEAN"},
            {"name": "note", "type": "TEXT"}, {"name": "day", "type": "DATE"},
            {"name": "payload", "type": "JSON"},
            {"name": "at", "type": "TIMESTAMP", "nullable": False}, {"name": "loaded_at", "type": "TIMESTAMP"},
        ],
        "ingestionSemantics": {"mode": "upsert", "idempotencyKey": ["id"], "eventTimeColumn": "at",
                               "processingTimeColumn": "loaded_at", "dedupeWindow": "24h",
                               "conflictResolution": "latest_wins"},
    }


def target(gw: Gateway) -> str:
    pg = gw.services.deps.warehouse.backend == "postgresql"
    return "spyne_shadow.docs__v1" if pg else "spyne_shadow__docs__v1"


@dataclass(frozen=True)
class BadValue:
    id: str
    text: str  # the record as JSON text (some of these only exist as text)
    reason: str  # a fragment of the quarantine reason


def rec(**values: Any) -> str:
    return json.dumps({"id": "bad", "at": AT, **values})


BAD_VALUES = [
    BadValue("ts-past-9999-in-utc", rec(at="9999-12-31T23:59:59-14:00"), "out of range"),
    BadValue("ts-before-year-1-in-utc", rec(at="0001-01-01T00:00:00+01:00"), "out of range"),
    BadValue("ts-optional-column-out-of-range", rec(loaded_at="x", at="0001-01-01T00:30:00+00:45"), "out of range"),
    BadValue("double-10e400-integer", '{"id": "bad", "at": "' + AT + '", "x": 1' + "0" * 400 + "}", "too large"),
    BadValue("double-1e400-float", '{"id": "bad", "at": "' + AT + '", "x": 1e400}', "finite"),
    BadValue("double-string-1e999", rec(x="1e999"), "finite"),
    BadValue("integer-10e400", '{"id": "bad", "at": "' + AT + '", "n": 1' + "0" * 400 + "}", "does not fit"),
    BadValue("bigint-float-huge", rec(big=1e300), "does not fit"),
    BadValue("json-nan", '{"id": "bad", "at": "' + AT + '", "payload": {"v": NaN}}', "NaN"),
    BadValue("json-infinity", '{"id": "bad", "at": "' + AT + '", "payload": [-Infinity]}', "NaN or Infinity"),
    BadValue("json-nul", rec(payload={"k": "a\u0000b"}), "NUL"),
    BadValue("json-lone-surrogate", '{"id": "bad", "at": "' + AT + '", "payload": "\\ud800"}', "surrogate"),
    BadValue("text-lone-surrogate", '{"id": "bad", "at": "' + AT + '", "note": "x\\udfff"}', "surrogate"),
    BadValue("key-lone-surrogate", '{"id": "\\ud83d", "at": "' + AT + '"}', "surrogate"),
    BadValue("key-too-long-for-an-index", rec(id="k" * 60_000), "idempotency key is longer"),
    BadValue("date-year-0", rec(day="0000-01-01"), "not a date"),
    BadValue("bool-2", rec(flag=2), "not a boolean"),
]


def good(i: int) -> str:
    return json.dumps({"id": f"good-{i}", "n": i, "x": 1.5, "flag": True, "note": "ok", "day": "2025-03-01",
                       "payload": {"a": [1, 2]}, "at": AT})


@pytest.mark.parametrize("bad", BAD_VALUES, ids=[b.id for b in BAD_VALUES])
async def test_a_bad_value_is_quarantined_and_its_batch_is_written(ingest_gw: Gateway, bad: BadValue) -> None:
    await ingest_gw.ok(DOCS_CONTRACT, {"input": docs_contract()}, role="ENGINEER")
    counter = Counter(ingest_gw)
    try:
        before = counter.take()
        body = "\n".join([good(1), bad.text, good(2)]) + "\n"
        response = await ingest_gw.client.post(
            "/ingest/docs", content=body.encode("utf-8"),
            headers={"Authorization": f"Bearer {ingest_gw.token('ENGINEER')}",
                     "Content-Type": "application/x-ndjson"})
        after = counter.take()
    finally:
        counter.dispose()
    assert response.status_code == 200, response.text[:500]
    result = response.json()
    assert (result["accepted"], result["quarantined"]) == (2, 1), result
    assert any(bad.reason in e and e.startswith("line 2:") for e in result["errors"]), result["errors"]
    assert after.warehouse[target(ingest_gw)] == before.warehouse[target(ingest_gw)] + 2
    moved = {k for k in before.catalog if after.catalog[k] != before.catalog[k]}
    assert moved <= {"ingestion_runs"}, moved


async def test_bad_values_through_graphql_are_quarantined_not_internal(ingest_gw: Gateway) -> None:
    await ingest_gw.ok(DOCS_CONTRACT, {"input": docs_contract()}, role="ENGINEER")
    # GraphQL variables are JSON too: what JSON can carry (no NaN, no 10**400 float) goes this way.
    records = [json.loads(good(1)), *(json.loads(b.text) for b in BAD_VALUES if "NaN" not in b.text
                                      and "Infinity" not in b.text and "1e400" not in b.text
                                      and "0" * 400 not in b.text), json.loads(good(2))]
    # Sent as Python's json writes it (\\ud800 escapes stay escapes): httpx's own encoder refuses them.
    response = await ingest_gw.client.post("/graphql", content=json.dumps(
        {"query": INGEST, "variables": {"id": "docs", "records": records}}).encode(),
        headers={"Authorization": f"Bearer {ingest_gw.token('ENGINEER')}", "Content-Type": "application/json"})
    body = response.json()
    assert response.status_code == 200 and not body.get("errors"), body.get("errors")
    result = body["data"]["ingest"]
    assert (result["accepted"], result["quarantined"]) == (2, len(records) - 2), result


async def test_a_line_that_is_not_utf8_is_quarantined_with_its_bytes(ingest_gw: Gateway) -> None:
    await ingest_gw.ok(DOCS_CONTRACT, {"input": docs_contract()}, role="ENGINEER")
    invalid = [b'{"id": "caf\xe9", "at": "' + AT.encode() + b'"}',  # Latin-1, not UTF-8
               b'{"id": "x", "note": "\xed\xa0\x80", "at": "' + AT.encode() + b'"}',  # an encoded surrogate
               b'\xff\xfe{"id": "bom16"}', b'{"id": "cut \xe2\x82"}']
    body = b"\n".join([good(1).encode(), *invalid, good(2).encode()]) + b"\n"
    counter = Counter(ingest_gw)
    try:
        before = counter.take()
        response = await ingest_gw.client.post(
            "/ingest/docs", content=body,
            headers={"Authorization": f"Bearer {ingest_gw.token('ENGINEER')}",
                     "Content-Type": "application/x-ndjson"})
        after = counter.take()
    finally:
        counter.dispose()
    assert after.warehouse[target(ingest_gw)] == before.warehouse[target(ingest_gw)] + 2
    result = response.json()
    assert (result["accepted"], result["quarantined"]) == (2, len(invalid)), result
    quarantined = (await ingest_gw.ok(QUARANTINE, role="ENGINEER"))["quarantine"]
    by_line = {q["lineNumber"]: q for q in quarantined}
    for offset, raw in enumerate(invalid, start=2):
        entry = by_line[offset]
        assert "invalid UTF-8" in entry["reason"]
        assert entry["raw"].startswith("base64:")
        assert base64.b64decode(entry["raw"].removeprefix("base64:")) == raw  # the bytes, exactly
        assert "\ufffd" not in entry["raw"]


# --- physical names in every spelling --------------------------------------------------------

REGISTER = """mutation($n: String!, $p: String!) { registerTable(input: {name: $n, physicalName: $p}) { name } }"""

# {d} is the backend's default schema: main on SQLite, public on PostgreSQL.
RESERVED_SPELLINGS = [
    "spyne_shadow__order_events__v1", "{d}.spyne_shadow__order_events__v1",
    '{D}."SPYNE_SHADOW__ORDER_EVENTS__V1"', '"spyne_shadow__order_events__v1"', "[{d}].[spyne_shadow__order_events__v1]",
    "  {d} . spyne_shadow__order_events__v1  ", "`spyne_shadow__order_events__v1`",
    "spyne_ingest__quarantine", "{d}.spyne_ingest__landing", '"{d}"."spyne_ingest__keys"', "SPYNE_INGEST__CHECKPOINTS",
    "spyne_shadow.order_events__v1", 'spyne_shadow."order_events__v1"', '"SPYNE_SHADOW".x', "spyne_ingest.landing",
    "sqlite_master", "{d}.sqlite_master", '"sqlite_schema"', "[sqlite_sequence]", "temp.sqlite_temp_master",
    "SQLITE_MASTER", "sqlite_stat1",
    "pg_catalog.pg_tables", "pg_tables", '"pg_catalog"."pg_authid"', "PG_CATALOG.PG_USER", "pg_toast.x",
    "pg_temp_3.x", "information_schema.tables", "INFORMATION_SCHEMA.COLUMNS", '"information_schema"."columns"',
    "mysql.user", "performance_schema.threads", "sys.sys_config", "system.tables", "duckdb_tables",
    "information_schema",
]
UNREADABLE = ['"never closed', "a.b.c", "", "   ", "a..b", '"a.b"', '"a""b"', "x y", "t;DROP TABLE customers"]


def spell(template: str, gw: Gateway) -> str:
    default = "public" if gw.services.deps.warehouse.backend == "postgresql" else "main"
    return template.replace("{d}", default).replace("{D}", default.upper())


@pytest.mark.parametrize("template", RESERVED_SPELLINGS)
async def test_reserved_and_system_names_are_refused_in_every_spelling(hostile: Gateway, template: str) -> None:
    async with unchanged(hostile):
        body = await hostile.gql(REGISTER, {"n": "stolen", "p": spell(template, hostile)})
    assert body.get("errors"), body
    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT", body["errors"]


@pytest.mark.parametrize("physical", UNREADABLE)
async def test_unreadable_physical_names_are_refused(hostile: Gateway, physical: str) -> None:
    async with unchanged(hostile):
        code = await hostile.error_code(REGISTER, {"n": "stolen", "p": physical})
    assert code == "INVALID_INPUT"


@pytest.mark.parametrize("template", ["orders__v2", "{d}.orders__v2", '"orders__v2"', "{D}.ORDERS__V2",
                                      '[{d}].[orders__v2]', "customers", '"{d}"."customers"'])
async def test_a_table_is_registered_once_whatever_its_spelling(hostile: Gateway, template: str) -> None:
    async with unchanged(hostile):
        body = await hostile.gql(REGISTER, {"n": "second_name", "p": spell(template, hostile)})
    assert body.get("errors"), body
    error = body["errors"][0]
    assert error["extensions"]["code"] == "CONFLICT", error
    assert "already registered" in error["message"]


# --- the mode as a kill switch mid-stream ----------------------------------------------------

async def test_a_stream_cannot_outlive_a_switch_to_read_only(ingest_gw: Gateway) -> None:
    await ingest_gw.ok(DOCS_CONTRACT, {"input": docs_contract()}, role="ENGINEER")
    batch = 10_000  # gateway.http.ingest.BATCH_LINES
    counter = Counter(ingest_gw)

    async def body() -> AsyncIterator[bytes]:
        yield "".join(good(i) + "\n" for i in range(batch + 1)).encode()
        while True:
            async with ingest_gw.services.deps.uow() as uow:
                runs = await uow.ingestion.list_runs("docs", 1)
            if runs and runs[0].accepted >= batch:
                break
            await asyncio.sleep(0.02)
        await ingest_gw.ok("mutation { setSystemMode(mode: READ_ONLY) }")
        nonlocal flipped
        flipped = counter.take()
        for start in range(batch + 1, 3 * batch, 5_000):
            yield "".join(good(i) + "\n" for i in range(start, start + 5_000)).encode()

    flipped = None
    try:
        response = await ingest_gw.client.post("/ingest/docs", content=body(), headers={
            "Authorization": f"Bearer {ingest_gw.token('ENGINEER')}", "Content-Type": "application/x-ndjson"})
        after = counter.take()
    finally:
        counter.dispose()
    assert response.status_code == 403 and response.json()["error"]["code"] == "MODE_DISABLED", response.text
    assert flipped is not None
    # After the switch: the run's row is closed, and not one row moved anywhere else.
    assert after.warehouse == flipped.warehouse
    assert after.catalog == flipped.catalog
    assert after.warehouse[target(ingest_gw)] == batch
