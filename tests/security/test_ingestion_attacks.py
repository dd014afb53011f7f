"""Hostile ingestion: contracts that try to smuggle SQL or reach reserved names, records that are
malformed, huge or hostile, and backfill sources that try to leave the archive directory.

Refusals carry their exact code and change nothing. Hostile records are not errors: they are
quarantined with a reason, and the only rows that move are the run's bookkeeping (one
``ingestion_runs`` row in the catalog; the landing log and quarantine in the warehouse's
reserved ``spyne_ingest`` space) — the target table and every other table stay as they were.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.ingestion.conftest import EVENTS_CONTRACT, INGEST, contract_input, event
from tests.security.snapshot import Counter, Snapshot, unchanged
from tests.support.harness import Gateway

BACKFILL = """mutation($input: BackfillInput!) { backfill(input: $input) { operationId estimatedRows } }"""
RANGE = {"start": "2025-01-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"}
AT = "2025-03-01T10:00:00Z"


async def register(gw: Gateway, **kwargs: Any) -> None:
    await gw.ok(EVENTS_CONTRACT, {"input": contract_input(**kwargs)}, role="ENGINEER")


def target_key(gw: Gateway) -> str:
    pg = gw.services.deps.warehouse.backend == "postgresql"
    return "spyne_shadow.events__v1" if pg else "spyne_shadow__events__v1"


# --- contracts -------------------------------------------------------------------------------

def with_column(**column: Any) -> dict[str, Any]:
    base = contract_input()
    base["columns"] = [*base["columns"], column]
    return base


def with_table(name: str) -> dict[str, Any]:
    return contract_input(table=name)


HOSTILE_CONTRACTS = {
    "table-stacked-drop": with_table("events; DROP TABLE customers"),
    "table-quote-breakout": with_table('events" (id INT); DROP TABLE customers; --'),
    "table-path-traversal": with_table("../events"),
    "table-schema-qualified": with_table("main.events"),
    "table-shadow-space": with_table("spyne_shadow__events"),
    "table-system-catalog-sqlite": with_table("sqlite_master"),
    "table-system-catalog-postgres": with_table("pg_tables"),
    "table-ingest-space": with_table("spyne_ingest__landing"),
    "table-empty": with_table(""),
    "table-huge": with_table("t" * 10_000),
    "column-quote-breakout": with_column(name='x" TEXT); DROP TABLE customers; --', type="TEXT"),
    "column-empty-name": with_column(name="", type="TEXT"),
    "column-type-injection": with_column(name="x", type="TEXT); DROP TABLE customers; --"),
    "column-type-generated": with_column(name="x", type="TEXT GENERATED ALWAYS AS (load_extension('x'))"),
    "column-duplicate": with_column(name="id", type="BIGINT"),
    "key-unknown-column": contract_input() | {"ingestionSemantics": {
        **contract_input()["ingestionSemantics"], "idempotencyKey": ["id; DROP TABLE customers"]}},
}


@pytest.mark.parametrize("case", list(HOSTILE_CONTRACTS), ids=list(HOSTILE_CONTRACTS))
async def test_hostile_contract_is_refused_and_changes_nothing(ingest_gw: Gateway, case: str) -> None:
    async with unchanged(ingest_gw):
        body = await ingest_gw.gql(EVENTS_CONTRACT, {"input": HOSTILE_CONTRACTS[case]}, role="ENGINEER")
    assert body.get("errors"), body
    assert body["errors"][0]["extensions"]["code"] == "INVALID_CONTRACT", body["errors"]


# --- records ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Hostile:
    id: str
    line: str  # one NDJSON line, sent as it is
    reason: str  # a fragment of the quarantine reason


def line(value: Any) -> str:
    return json.dumps(value)


HOSTILE_RECORDS = [
    Hostile("key-is-sql", line({"id": 1, 'kind" TEXT); DROP TABLE customers; --': "x", "happened_at": AT}),
            "unknown column"),
    Hostile("id-not-a-number", line({"id": "1 OR 1=1", "happened_at": AT}), "not a whole number"),
    Hostile("id-boolean", line({"id": True, "happened_at": AT}), "id"),
    Hostile("id-overflows-bigint", line({"id": 2 ** 70, "happened_at": AT}), "does not fit"),
    Hostile("amount-nan", '{"id": 1, "amount": NaN, "happened_at": "' + AT + '"}', "finite"),
    Hostile("amount-infinity", '{"id": 1, "amount": Infinity, "happened_at": "' + AT + '"}', "finite"),
    Hostile("time-impossible", line({"id": 1, "happened_at": "9999-99-99T00:00:00Z"}), "ISO 8601"),
    Hostile("time-is-sql", line({"id": 1, "happened_at": "2025-01-01'; DROP TABLE customers; --"}), "ISO 8601"),
    Hostile("kind-too-long", line({"id": 1, "kind": "k" * 10_000, "happened_at": AT}), "longer than the limit"),
    Hostile("kind-an-object", line({"id": 1, "kind": {"$ne": None}, "happened_at": AT}), "not text"),
    Hostile("deeply-nested", '{"id": 1, "kind": ' + "[" * 50_000 + "]" * 50_000 + ', "happened_at": "' + AT + '"}',
            "nested too deeply"),
    Hostile("not-an-object", line([1, "DROP TABLE customers"]), "must be a JSON object"),
    Hostile("null-record", "null", "must be a JSON object"),
    Hostile("broken-json", '{"id": 1, "happened_at": ', "broken JSON"),
    Hostile("kind-with-nul", line({"id": 1, "kind": "a\u0000b", "happened_at": AT}), "NUL"),
    Hostile("key-with-nul", line({"id": 1, "k\u0000": 1, "happened_at": AT}), "unknown column"),
    Hostile("binary-garbage", "\x00\x01\x02\ufffd\ufffd", "broken JSON"),
    Hostile("record-over-1mb", line({"id": 1, "kind": "x" * 2_000_000, "happened_at": AT}), "longer than the limit"),
]


def assert_only_bookkeeping_moved(before: Snapshot, after: Snapshot, target: str, *, accepted: int = 0,
                                  runs: int = 1) -> None:
    """The target gains ``accepted`` rows; only reserved ``spyne_ingest`` tables and the run rows move."""
    assert after.warehouse[target] == before.warehouse[target] + accepted
    others = {k for k in before.warehouse | after.warehouse if k != target and "spyne_ingest" not in k}
    assert {k: after.warehouse.get(k) for k in others} == {k: before.warehouse.get(k) for k in others}
    moved = {k for k in before.catalog if after.catalog[k] != before.catalog[k]}
    assert moved <= {"ingestion_runs", "audit_events"}, moved
    assert after.catalog["ingestion_runs"] == before.catalog["ingestion_runs"] + runs


async def post_ndjson(gw: Gateway, body: bytes, role: str | None = "ENGINEER", contract: str = "events") -> Any:
    headers = {"content-type": "application/x-ndjson"}
    if role is not None:
        headers["Authorization"] = f"Bearer {gw.token(role)}"
    return await gw.client.post(f"/ingest/{contract}", content=body, headers=headers)


@pytest.mark.parametrize("hostile", HOSTILE_RECORDS, ids=[h.id for h in HOSTILE_RECORDS])
async def test_hostile_record_is_quarantined_and_the_target_is_untouched(ingest_gw: Gateway,
                                                                         hostile: Hostile) -> None:
    await register(ingest_gw)
    counter = Counter(ingest_gw)
    try:
        before = counter.take()
        response = await post_ndjson(ingest_gw, hostile.line.encode("utf-8", "surrogatepass") + b"\n")
        after = counter.take()
    finally:
        counter.dispose()
    assert response.status_code == 200, response.text[:500]
    result = response.json()
    assert (result["accepted"], result["quarantined"]) == (0, 1), result
    assert any(hostile.reason in e for e in result["errors"]), result["errors"]
    assert_only_bookkeeping_moved(before, after, target_key(ingest_gw))


async def test_sql_in_values_is_stored_as_text(ingest_gw: Gateway) -> None:
    await register(ingest_gw)
    payload = "'); DROP TABLE customers; --"
    counter = Counter(ingest_gw)
    try:
        before = counter.take()
        data = await ingest_gw.ok(INGEST, {"id": "events", "records": [event(1, kind=payload)]}, role="ENGINEER")
        after = counter.take()
    finally:
        counter.dispose()
    assert (data["ingest"]["accepted"], data["ingest"]["quarantined"]) == (1, 0)
    assert_only_bookkeeping_moved(before, after, target_key(ingest_gw), accepted=1)
    with ingest_gw.services.deps.warehouse.engine.connect() as conn:
        from sqlalchemy import text

        stored = conn.execute(text(f"SELECT kind FROM {target_key(ingest_gw)}")).scalar_one()
    assert stored == payload


async def test_a_10mb_line_is_cut_not_buffered(ingest_gw: Gateway) -> None:
    await register(ingest_gw)
    body = b'{"id": 1, "kind": "' + b"x" * 10_000_000 + b'", "happened_at": "' + AT.encode() + b'"}\n'
    body += (line(event(2)) + "\n").encode()
    response = await post_ndjson(ingest_gw, body)
    result = response.json()
    assert (result["accepted"], result["quarantined"]) == (1, 1), result


NDJSON_REFUSALS = [
    ("no-token", None, "events", 401, "UNAUTHENTICATED"),
    ("viewer", "VIEWER", "events", 403, "FORBIDDEN"),
    ("analyst", "ANALYST", "events", 403, "FORBIDDEN"),
    ("unknown-contract", "ENGINEER", "nope", 400, "INVALID_INPUT"),
    ("contract-id-is-sql", "ENGINEER", "events'; DROP TABLE customers; --", 400, "INVALID_INPUT"),
    ("contract-id-unicode", "ENGINEER", "évènements", 400, "INVALID_INPUT"),
]


@pytest.mark.parametrize(("case", "role", "contract", "status", "code"), NDJSON_REFUSALS,
                         ids=[c[0] for c in NDJSON_REFUSALS])
async def test_ndjson_refusals_change_nothing(ingest_gw: Gateway, case: str, role: str | None, contract: str,
                                              status: int, code: str) -> None:
    await register(ingest_gw)
    async with unchanged(ingest_gw):
        response = await post_ndjson(ingest_gw, (line(event(1)) + "\n").encode(), role=role, contract=contract)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


# --- backfill sources ------------------------------------------------------------------------

OUTSIDE = [
    ("dotdot", {"path": "../../../../etc/passwd", "format": "NDJSON"}),
    ("absolute", {"path": "/etc/passwd", "format": "NDJSON"}),
    ("dotdot-after-a-folder", {"path": "sub/../../outside.ndjson"}),
    ("url-encoded-dotdot", {"path": "..%2F..%2Fetc%2Fpasswd", "format": "NDJSON"}),
    ("home", {"path": "~/.ssh/id_rsa", "format": "NDJSON"}),
    ("file-url", {"path": "file:///etc/passwd", "format": "NDJSON"}),
    ("nul-byte", {"path": "events.ndjson\x00.csv"}),
    ("very-long", {"path": "a/" * 3_000 + "x.ndjson"}),
    ("a-directory", {"path": ".", "format": "NDJSON"}),
    ("empty", {"path": "", "format": "NDJSON"}),
    ("symlink-out", {"path": "link.ndjson"}),
    ("both-path-and-table", {"path": "events.ndjson", "table": "customers"}),
    ("table-physical-name", {"table": "events__v1"}),
    ("table-shadow-name", {"table": "spyne_shadow__events__v1"}),
    ("table-system-catalog", {"table": "sqlite_master"}),
    ("table-is-sql", {"table": "customers; DROP TABLE customers"}),
    ("table-shadow-logical", {"table": "events"}),
]


@pytest.mark.parametrize(("case", "source"), OUTSIDE, ids=[c for c, _ in OUTSIDE])
async def test_backfill_source_outside_the_archive_is_refused_and_changes_nothing(
        ingest_gw: Gateway, archive: Path, tmp_path: Path, case: str, source: dict[str, str]) -> None:
    await register(ingest_gw)
    (archive / "events.ndjson").write_text(line(event(1)) + "\n")
    outside = tmp_path / "outside.ndjson"
    outside.write_text(line(event(2)) + "\n")
    (archive / "sub").mkdir()
    os.symlink(outside, archive / "link.ndjson")
    variables = {"input": {"contractId": "events", "source": source, "timeRange": RANGE,
                           "dedupeStrategy": "IDEMPOTENCY_KEY"}}
    async with unchanged(ingest_gw):
        body = await ingest_gw.gql(BACKFILL, variables, role="ADMIN")
    assert body.get("errors"), body
    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT", body["errors"]
    assert str(tmp_path) not in body["errors"][0]["message"]


async def test_a_file_inside_the_archive_is_accepted(ingest_gw: Gateway, archive: Path) -> None:
    await register(ingest_gw)
    (archive / "events.ndjson").write_text(line(event(1)) + "\n")
    variables = {"input": {"contractId": "events", "source": {"path": "events.ndjson"}, "timeRange": RANGE,
                           "dedupeStrategy": "IDEMPOTENCY_KEY"}}
    data = await ingest_gw.ok(BACKFILL, variables, role="ADMIN")
    assert data["backfill"]["estimatedRows"] == 1
