"""Ingestion on every live adapter, through the real GraphQL endpoint: shadow table, landing log,
quarantine, idempotent upsert and append — or WAREHOUSE_UNSUPPORTED where the adapter cannot write."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from gateway.domain import SystemMode
from gateway.errors import GatewayError
from gateway.services.replay import OperationInterrupted
from gateway.warehouse.contract import Capability
from gateway.warehouse.naming import ingest_table_name, shadow_physical_name
from tests.ingestion.conftest import EVENTS_CONTRACT, INGEST, contract_input, event
from tests.support.databases import fresh_sqlite_catalog
from tests.support.harness import Gateway, principal, start_gateway, stop_gateway
from tests.warehouse.live_adapters import ENGINES, LiveWarehouse, live_warehouse

QUARANTINE = """query($id: String!) { quarantine(contractId: $id) { lineNumber reason raw } }"""


@pytest.fixture(params=ENGINES)
def live(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveWarehouse]:
    with live_warehouse(request.param, tmp_path / "wh") as found:
        yield found


@pytest.fixture
async def gw(live: LiveWarehouse, sqlite_template: Path, tmp_path: Path) -> AsyncIterator[Gateway]:
    (tmp_path / "archive").mkdir()
    gateway = await start_gateway(fresh_sqlite_catalog(sqlite_template, tmp_path), live.url,
                                  initial_mode=SystemMode.INGESTION_READY, archive_dir=str(tmp_path / "archive"))
    try:
        yield gateway
    finally:
        await stop_gateway(gateway)


def _writes(gw: Gateway) -> bool:
    return gw.services.deps.warehouse.capabilities.has(Capability.INGESTION)


async def test_upsert_lands_quarantines_and_is_idempotent(gw: Gateway, live: LiveWarehouse) -> None:
    if not _writes(gw):
        body = await gw.gql(EVENTS_CONTRACT, {"input": contract_input()}, role="ENGINEER")
        assert body["errors"][0]["extensions"]["code"] == "WAREHOUSE_UNSUPPORTED"
        assert body["errors"][0]["extensions"]["capability"] == "ingestion"
        return
    await gw.ok(EVENTS_CONTRACT, {"input": contract_input()}, role="ENGINEER")
    first = [event(1), event(2, kind="view"), {"id": "not a number", "happened_at": "2025-03-01T10:00:00Z"}]
    result = (await gw.ok(INGEST, {"id": "events", "records": first}, role="ENGINEER"))["ingest"]
    assert (result["accepted"], result["duplicates"], result["quarantined"]) == (2, 0, 1)
    # The same batch again changes nothing; a newer record of id 1 replaces the stored one.
    again = (await gw.ok(INGEST, {"id": "events", "records": first[:2]}, role="ENGINEER"))["ingest"]
    assert (again["accepted"], again["duplicates"]) == (0, 2)
    newer = [event(1, kind="buy", at="2025-03-02T10:00:00Z")]
    assert (await gw.ok(INGEST, {"id": "events", "records": newer}, role="ENGINEER"))["ingest"]["accepted"] == 1

    backend = gw.services.deps.warehouse.backend
    target = live.quoted(shadow_physical_name("events", 1, backend))
    assert live.direct(f"SELECT id, kind FROM {target} ORDER BY id") == [(1, "buy"), (2, "view")]
    landing = live.quoted(ingest_table_name("landing", backend))
    assert live.direct(f"SELECT COUNT(*) FROM {landing}") == [(5,)]
    quarantined = (await gw.ok(QUARANTINE, {"id": "events"}, role="ENGINEER"))["quarantine"]
    assert len(quarantined) == 1 and "not a number" in quarantined[0]["raw"]


async def test_append_keeps_the_first_record_of_a_key(gw: Gateway, live: LiveWarehouse) -> None:
    if not _writes(gw):
        body = await gw.gql(EVENTS_CONTRACT, {"input": contract_input(mode="append")}, role="ENGINEER")
        assert body["errors"][0]["extensions"]["code"] == "WAREHOUSE_UNSUPPORTED"
        return
    await gw.ok(EVENTS_CONTRACT, {"input": contract_input(mode="append")}, role="ENGINEER")
    batch = [event(1), event(1, kind="again"), event(2)]
    result = (await gw.ok(INGEST, {"id": "events", "records": batch}, role="ENGINEER"))["ingest"]
    assert (result["accepted"], result["duplicates"]) == (2, 1)
    target = live.quoted(shadow_physical_name("events", 1, gw.services.deps.warehouse.backend))
    assert live.direct(f"SELECT id, kind FROM {target} ORDER BY id") == [(1, "click"), (2, "click")]


# --- the same semantics on every engine that writes -------------------------------------------

def _counts(result: dict[str, object]) -> tuple[object, object, object]:
    return result["accepted"], result["duplicates"], result["quarantined"]


async def _ingest(gw: Gateway, records: list[object], contract: str = "events") -> dict[str, object]:
    return (await gw.ok(INGEST, {"id": contract, "records": records}, role="ENGINEER"))["ingest"]  # type: ignore[no-any-return]


def _rows(gw: Gateway, live: LiveWarehouse, columns: str, table: str = "events") -> list[tuple[object, ...]]:
    target = live.quoted(shadow_physical_name(table, 1, gw.services.deps.warehouse.backend))
    return live.direct(f"SELECT {columns} FROM {target} ORDER BY 1")


async def test_latest_wins_keeps_the_newest_record_of_a_key(gw: Gateway, live: LiveWarehouse) -> None:
    if not _writes(gw):
        pytest.skip("this warehouse does not write (the refusal is tested above)")
    await gw.ok(EVENTS_CONTRACT, {"input": contract_input()}, role="ENGINEER")
    batch = [event(1, kind="a", at="2025-03-01T10:00:00Z"), event(1, kind="b", at="2025-03-01T12:00:00Z"),
             event(1, kind="c", at="2025-03-01T12:00:00Z"), event(1, kind="d", at="2025-03-01T11:00:00Z"),
             event(2, kind="a")]
    # One row per key: the newest, and of equally new ones the last to arrive. The staged engines
    # count one record per key; SQLite's row-at-a-time upsert counts each record that changed it.
    staged = gw.services.deps.warehouse.capabilities.engine != "sqlite"
    assert _counts(await _ingest(gw, batch)) == ((2, 3, 0) if staged else (4, 1, 0))
    assert _rows(gw, live, "id, kind") == [(1, "c"), (2, "a")]
    assert _counts(await _ingest(gw, batch)) == ((0, 5, 0) if staged else (2, 3, 0))
    assert _rows(gw, live, "id, kind") == [(1, "c"), (2, "a")]
    # Equally new: the same values are a duplicate, other values replace; older never does.
    again = [event(1, kind="c", at="2025-03-01T12:00:00Z"), event(2, kind="z", at="2025-03-01T10:00:00Z"),
             event(1, kind="old", at="2025-03-01T09:00:00Z")]
    assert _counts(await _ingest(gw, again[:2])) == (1, 1, 0)
    assert _counts(await _ingest(gw, again[2:])) == (0, 1, 0)
    assert _rows(gw, live, "id, kind") == [(1, "c"), (2, "z")]


async def test_conflict_error_quarantines_with_reasons(gw: Gateway, live: LiveWarehouse) -> None:
    if not _writes(gw):
        pytest.skip("this warehouse does not write (the refusal is tested above)")
    await gw.ok(EVENTS_CONTRACT, {"input": contract_input(conflict="error")}, role="ENGINEER")
    # X, Y, X of one key: Y differs from X, the second X from Y — both refused, as PostgreSQL does.
    batch = [event(1, kind="x"), event(1, kind="x"), event(1, kind="y"), event(1, kind="x"), event(2)]
    assert _counts(await _ingest(gw, batch)) == (2, 1, 2)
    # "other" differs from what is stored; the stored value after it differs from "other".
    assert _counts(await _ingest(gw, [event(2, kind="other"), event(2)])) == (0, 0, 2)
    assert _counts(await _ingest(gw, [event(2)])) == (0, 1, 0)
    assert _rows(gw, live, "id, kind") == [(1, "x"), (2, "click")]
    reasons = [q["reason"] for q in (await gw.ok(QUARANTINE, {"id": "events"}, role="ENGINEER"))["quarantine"]]
    assert len(reasons) == 4
    assert sum("appears earlier in the same batch with other values" in r for r in reasons) == 3
    assert sum("is stored with other values" in r for r in reasons) == 1


async def test_append_dedupes_within_the_window_only(gw: Gateway, live: LiveWarehouse) -> None:
    if not _writes(gw):
        pytest.skip("this warehouse does not write (the refusal is tested above)")
    await gw.ok(EVENTS_CONTRACT, {"input": contract_input(mode="append", window="1s")}, role="ENGINEER")
    assert _counts(await _ingest(gw, [event(1), event(2), event(1, kind="again")])) == (2, 1, 0)
    assert _counts(await _ingest(gw, [event(1)])) == (0, 1, 0)
    time.sleep(1.2)  # past the window: the key is new again
    assert _counts(await _ingest(gw, [event(1, kind="later"), event(1)])) == (1, 1, 0)
    assert _rows(gw, live, "id, kind") == [(1, "click"), (1, "later"), (2, "click")]


TEXT_KEYED = {"table": "codes", "columns": [
    {"name": "code", "type": "TEXT", "nullable": False}, {"name": "note", "type": "TEXT"},
    {"name": "at", "type": "TIMESTAMP", "nullable": False}, {"name": "loaded_at", "type": "TIMESTAMP"}],
    "ingestionSemantics": {"mode": "upsert", "idempotencyKey": ["code"], "eventTimeColumn": "at",
                           "processingTimeColumn": "loaded_at", "dedupeWindow": "24h",
                           "conflictResolution": "latest_wins"}}


async def test_text_keys_compare_exactly_and_overlong_ones_are_quarantined(gw: Gateway,
                                                                            live: LiveWarehouse) -> None:
    if not _writes(gw):
        pytest.skip("this warehouse does not write (the refusal is tested above)")
    await gw.ok(EVENTS_CONTRACT, {"input": TEXT_KEYED}, role="ENGINEER")
    at = "2025-03-01T10:00:00Z"
    # Case, a trailing space and an accent make different keys and different values everywhere.
    records = [{"code": c, "note": "n", "at": at} for c in ("a", "A", "a ", "á")]
    assert _counts(await _ingest(gw, records, "codes")) == (4, 0, 0)
    assert _counts(await _ingest(gw, [{"code": "a", "note": "n ", "at": at}], "codes")) == (1, 0, 0)
    assert sorted(_rows(gw, live, "code, note", "codes")) == sorted(
        [("a", "n "), ("A", "n"), ("a ", "n"), ("á", "n")])
    # A key longer than the engine's index holds is this record's problem, never the batch's.
    limit = gw.services.deps.warehouse.capabilities.engine == "mysql" and 768
    long = {"code": "k" * 1000, "note": "n", "at": at}
    result = await _ingest(gw, [long, {"code": "b", "at": at}], "codes")
    if limit:
        assert _counts(result) == (1, 0, 1)
        reason = (await gw.ok(QUARANTINE, {"id": "codes"}, role="ENGINEER"))["quarantine"][0]["reason"]
        assert "holds at most 768 characters" in reason
    else:
        assert _counts(result) == (2, 0, 0)


REPLAY = """mutation($input: ReplayInput!) { replay(input: $input) {
  operationId estimatedRows estimatedNewRows estimatedDuplicates } }"""
BACKFILL = """mutation($input: BackfillInput!) { backfill(input: $input) {
  operationId estimatedRows estimatedNewRows estimatedQuarantined } }"""
CONFIRM = """mutation($id: String!) { confirmOperation(operationId: $id) { status accepted duplicates quarantined } }"""
RANGE = {"start": "2025-01-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"}


async def test_replay_is_idempotent_and_fills_a_new_version(gw: Gateway, live: LiveWarehouse) -> None:
    if not _writes(gw):
        pytest.skip("this warehouse does not write (the refusal is tested above)")
    await gw.ok(EVENTS_CONTRACT, {"input": contract_input()}, role="ENGINEER")
    for _ in range(2):  # delivered twice: the landing log holds 40
        await _ingest(gw, [event(i) for i in range(1, 21)])
    dry = (await gw.ok(REPLAY, {"input": {"contractId": "events", "timeRange": RANGE,
                                          "dedupeStrategy": "IDEMPOTENCY_KEY"}}))["replay"]
    assert (dry["estimatedRows"], dry["estimatedNewRows"], dry["estimatedDuplicates"]) == (40, 0, 40)
    done = (await gw.ok(CONFIRM, {"id": dry["operationId"]}))["confirmOperation"]
    assert (done["status"], done["accepted"], done["duplicates"]) == ("DONE", 0, 40)
    await gw.ok(EVENTS_CONTRACT, {"input": contract_input()}, role="ENGINEER")  # v2, empty
    dry = (await gw.ok(REPLAY, {"input": {"contractId": "events", "timeRange": RANGE,
                                          "dedupeStrategy": "CONTRACT"}}))["replay"]
    assert dry["estimatedNewRows"] == 20
    assert (await gw.ok(CONFIRM, {"id": dry["operationId"]}))["confirmOperation"]["accepted"] == 20
    v2 = live.quoted(shadow_physical_name("events", 2, gw.services.deps.warehouse.backend))
    assert live.direct(f"SELECT COUNT(*), COUNT(DISTINCT id) FROM {v2}") == [(20, 20)]


async def test_backfill_resumes_after_a_crash_between_batches(gw: Gateway, live: LiveWarehouse,
                                                              tmp_path: Path) -> None:
    if not _writes(gw):
        pytest.skip("this warehouse does not write (the refusal is tested above)")
    await gw.ok(EVENTS_CONTRACT, {"input": contract_input(mode="append")}, role="ENGINEER")
    records: list[object] = [event(i) for i in range(1, 301)]
    records[150] = {"id": 151, "happened_at": "no time"}
    (tmp_path / "archive" / "events.ndjson").write_text("\n".join(json.dumps(r) for r in records) + "\n")
    dry = (await gw.ok(BACKFILL, {"input": {"contractId": "events", "source": {"path": "events.ndjson"},
                                            "timeRange": RANGE, "batchSize": 50,
                                            "dedupeStrategy": "IDEMPOTENCY_KEY"}}))["backfill"]
    assert (dry["estimatedRows"], dry["estimatedNewRows"], dry["estimatedQuarantined"]) == (300, 299, 1)
    with pytest.raises(OperationInterrupted):
        await gw.services.replay.confirm(principal("ADMIN"), dry["operationId"], stop_after_batches=2)
    assert _rows(gw, live, "COUNT(*)") == [(100,)]  # the two committed batches, nothing of the third
    result = await gw.services.replay.confirm(principal("ADMIN"), dry["operationId"])
    assert (result.batches, result.batches_resumed) == (6, 2)
    assert (result.accepted, result.duplicates, result.quarantined) == (299, 0, 1)
    assert _rows(gw, live, "COUNT(*), COUNT(DISTINCT id)") == [(299, 299)]


async def test_a_table_name_the_warehouse_would_cut_is_an_invalid_contract(gw: Gateway, live: LiveWarehouse) -> None:
    if not _writes(gw):
        pytest.skip("this warehouse does not write (the refusal is tested above)")
    name = "t" * 60  # a valid logical name; its versions' tables are longer than MySQL's 64 or PostgreSQL's 63
    body = await gw.gql(EVENTS_CONTRACT, {"input": contract_input(name)}, role="ENGINEER")
    limit = {"mysql": 64, "postgresql": 63}.get(live.engine)
    if limit is None:
        assert not body.get("errors"), body
        return
    assert body["errors"][0]["extensions"]["code"] == "INVALID_CONTRACT"
    assert f"allows {limit} characters" in body["errors"][0]["message"]
    # Nothing was half-made: a shorter name registers as version 1.
    assert (await gw.ok(EVENTS_CONTRACT, {"input": contract_input("t" * 40)}, role="ENGINEER"))[
        "registerContract"]["version"] == 1


async def test_a_promoted_version_answers_analyst_queries(gw: Gateway, live: LiveWarehouse) -> None:
    if not _writes(gw):
        pytest.skip("this warehouse does not write (the refusal is tested above)")
    await gw.ok(EVENTS_CONTRACT, {"input": contract_input()}, role="ENGINEER")
    await _ingest(gw, [event(1, kind="buy"), event(2), event(3, kind="buy")])
    await gw.ok('mutation { promoteTable(table: "events", version: 1) { table { activeVersion } } }')
    preview = (await gw.ok('mutation { previewQuery(input: {sql: "SELECT kind, COUNT(*) AS n FROM events '
                           'GROUP BY kind ORDER BY kind"}) { id } }', role="ANALYST"))["previewQuery"]
    result = (await gw.ok("mutation($id: ID!) { executeQuery(previewId: $id) { rows } }", {"id": preview["id"]},
                          role="ANALYST"))["executeQuery"]
    assert result["rows"] == [["buy", 2], ["click", 1]]


async def test_mysql_ingestion_writes_with_the_admin_login_while_queries_keep_the_read_login(
        sqlite_template: Path, tmp_path: Path) -> None:
    with live_warehouse("mysql", tmp_path / "wh") as live:
        await _admin_writes_reader_reads(live, sqlite_template, tmp_path)


async def _admin_writes_reader_reads(live: LiveWarehouse, sqlite_template: Path, tmp_path: Path) -> None:
    gw = await start_gateway(fresh_sqlite_catalog(sqlite_template, tmp_path), live.url,
                             warehouse_query_url=live.query_url, initial_mode=SystemMode.INGESTION_READY)
    try:
        await gw.ok(EVENTS_CONTRACT, {"input": contract_input()}, role="ENGINEER")
        assert _counts(await _ingest(gw, [event(1), event(2)])) == (2, 0, 0)
        target = shadow_physical_name("events", 1, gw.services.deps.warehouse.backend)
        # The read connection is still the SELECT-only login, in a READ ONLY transaction: the
        # managed table is readable there, and not writable, whatever SQL reaches it.
        read = await gw.services.deps.warehouse.execute_read_only(f"SELECT COUNT(*) FROM `{target}`", max_rows=5)
        assert read.rows == [[2]]
        for sql in (f"DELETE FROM `{target}`", f"INSERT INTO `{target}` (id, happened_at) VALUES (9, NOW())",
                    f"DROP TABLE `{target}`"):
            with pytest.raises(GatewayError):
                await gw.services.deps.warehouse.execute_read_only(sql, max_rows=5)
        assert live.direct(f"SELECT COUNT(*) FROM {live.quoted(target)}") == [(2,)]
    finally:
        await stop_gateway(gw)


async def test_backfill_from_the_active_version_into_the_next(gw: Gateway, live: LiveWarehouse) -> None:
    if not _writes(gw):
        pytest.skip("this warehouse does not write (the refusal is tested above)")
    await gw.ok(EVENTS_CONTRACT, {"input": contract_input()}, role="ENGINEER")
    await _ingest(gw, [event(i, at=f"2025-03-0{i}T10:00:00+02:00") for i in range(1, 6)])
    await gw.ok('mutation { promoteTable(table: "events", version: 1) { table { activeVersion } } }')
    await gw.ok(EVENTS_CONTRACT, {"input": contract_input()}, role="ENGINEER")  # v2, SHADOW, empty
    dry = (await gw.ok(BACKFILL, {"input": {"contractId": "events", "source": {"table": "events"},
                                            "timeRange": RANGE, "dedupeStrategy": "CONTRACT"}}))["backfill"]
    # The managed table's times read back as the instants they were (UTC), whatever the engine keeps.
    assert (dry["estimatedRows"], dry["estimatedNewRows"], dry["estimatedQuarantined"]) == (5, 5, 0)
    assert (await gw.ok(CONFIRM, {"id": dry["operationId"]}))["confirmOperation"]["accepted"] == 5
    v1, v2 = (live.quoted(shadow_physical_name("events", v, gw.services.deps.warehouse.backend)) for v in (1, 2))
    assert live.direct(f"SELECT id, happened_at FROM {v2} ORDER BY id") == \
        live.direct(f"SELECT id, happened_at FROM {v1} ORDER BY id")


async def test_refreshing_an_ingested_table_finds_no_drift(gw: Gateway, live: LiveWarehouse) -> None:
    if not _writes(gw):
        pytest.skip("this warehouse does not write (the refusal is tested above)")
    await gw.ok(EVENTS_CONTRACT, {"input": contract_input()}, role="ENGINEER")
    await _ingest(gw, [event(1), event(2, kind=None)])  # type: ignore[arg-type]
    await gw.ok('mutation { promoteTable(table: "events", version: 1) { table { activeVersion } } }')
    # What the engine made of the contract's types (LONGTEXT, DATETIME(6), a bounded key, …)
    # reads back as the same columns.
    report = (await gw.ok('mutation { refreshSchema(table: "events") { severity changes { type column } } }',
                          role="ENGINEER"))["refreshSchema"]
    assert report == {"severity": "COMPATIBLE", "changes": []}
