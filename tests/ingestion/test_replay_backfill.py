"""Replay and backfill: dry run first, admin confirmation, resume after a crash, archive confinement."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from gateway.errors import InvalidInput
from gateway.services.replay import OperationInterrupted
from tests.ingestion.conftest import event, ingest, register, target, warehouse_rows
from tests.support.harness import Gateway, principal

REPLAY = """mutation($input: ReplayInput!) { replay(input: $input) {
  operationId estimatedRows estimatedNewRows estimatedDuplicates preview confirmationRequired } }"""
BACKFILL = """mutation($input: BackfillInput!) { backfill(input: $input) {
  operationId estimatedRows estimatedNewRows estimatedDuplicates estimatedQuarantined preview confirmationRequired } }"""
CONFIRM = """mutation($id: String!) { confirmOperation(operationId: $id) {
  status batches batchesResumed accepted duplicates quarantined } }"""
RANGE = {"start": "2025-01-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"}


def write_ndjson(path: Path, records: list[object], broken: int | None = None) -> None:
    lines = [json.dumps(r) for r in records]
    if broken is not None:
        lines[broken] = "{not json"
    path.write_text("\n".join(lines) + "\n")


async def test_replay_over_already_applied_records_changes_nothing(gw: Gateway) -> None:
    await register(gw)
    await ingest(gw, [event(i) for i in range(1, 51)])
    await ingest(gw, [event(i) for i in range(1, 51)])  # delivered twice: the landing log has 100
    data = await gw.ok(REPLAY, {"input": {"contractId": "events", "timeRange": RANGE,
                                          "dedupeStrategy": "IDEMPOTENCY_KEY", "previewRows": 3}})
    preview = data["replay"]
    assert preview["confirmationRequired"] and len(preview["preview"]) == 3
    assert (preview["estimatedRows"], preview["estimatedNewRows"], preview["estimatedDuplicates"]) == (100, 0, 100)
    assert await gw.error_code(CONFIRM, {"id": preview["operationId"]}, role="ENGINEER") == "FORBIDDEN"
    done = (await gw.ok(CONFIRM, {"id": preview["operationId"]}))["confirmOperation"]
    assert (done["status"], done["accepted"], done["duplicates"]) == ("DONE", 0, 100)
    assert warehouse_rows(gw, f"SELECT COUNT(*), COUNT(DISTINCT id) FROM {target(gw)}") == [(50, 50)]
    assert await gw.error_code(CONFIRM, {"id": preview["operationId"]}) == "CONFLICT"


async def test_replay_refused_when_the_range_changed(gw: Gateway) -> None:
    await register(gw)
    await ingest(gw, [event(1)])
    data = await gw.ok(REPLAY, {"input": {"contractId": "events", "timeRange": RANGE,
                                          "dedupeStrategy": "CONTRACT"}})
    await ingest(gw, [event(2)])  # lands inside the range after the dry run
    assert await gw.error_code(CONFIRM, {"id": data["replay"]["operationId"]}) == "CONFLICT"


async def test_replay_fills_a_new_contract_version(gw: Gateway) -> None:
    await register(gw)
    await ingest(gw, [event(i) for i in range(1, 21)])
    await register(gw)  # v2: empty
    data = await gw.ok(REPLAY, {"input": {"contractId": "events", "timeRange": RANGE,
                                          "dedupeStrategy": "CONTRACT"}})
    assert data["replay"]["estimatedNewRows"] == 20
    await gw.ok(CONFIRM, {"id": data["replay"]["operationId"]})
    assert warehouse_rows(gw, f"SELECT COUNT(*) FROM {target(gw, version=2)}") == [(20,)]


async def test_backfill_crash_between_batches_then_resume(gw: Gateway, archive: Path) -> None:
    await register(gw)
    records: list[object] = [event(i, amount=float(i)) for i in range(1, 1001)]
    records[500] = {"id": 501, "happened_at": "no time"}  # one bad record among them
    records.append(event(5000, at="2024-06-01T00:00:00Z"))  # outside the time range: skipped
    write_ndjson(archive / "events.ndjson", records)
    data = await gw.ok(BACKFILL, {"input": {"contractId": "events", "source": {"path": "events.ndjson"},
                                            "timeRange": RANGE, "batchSize": 100,
                                            "dedupeStrategy": "IDEMPOTENCY_KEY"}})
    preview = data["backfill"]
    assert (preview["estimatedRows"], preview["estimatedNewRows"], preview["estimatedQuarantined"]) == (1000, 999, 1)
    assert warehouse_rows(gw, f"SELECT COUNT(*) FROM {target(gw)}") == [(0,)]  # the dry run wrote nothing
    replay = gw.services.replay
    with pytest.raises(OperationInterrupted):
        await replay.confirm(principal("ADMIN"), preview["operationId"], stop_after_batches=4)
    # Exactly the four committed batches are there, nothing of the fifth.
    assert warehouse_rows(gw, f"SELECT COUNT(*) FROM {target(gw)}") == [(400,)]
    seen: list[int] = []
    result = await replay.confirm(principal("ADMIN"), preview["operationId"],
                                  progress=lambda p: seen.append(p.batches_done))
    assert result.batches == 11 and result.batches_resumed == 4
    assert (result.accepted, result.duplicates, result.quarantined) == (999, 0, 1)
    assert seen == list(range(1, 12))
    rows = warehouse_rows(gw, f"SELECT id FROM {target(gw)} ORDER BY id")
    assert [r[0] for r in rows] == [i for i in range(1, 1001) if i != 501]
    quarantined = await gw.ok('query { quarantine(contractId: "events") { reason lineNumber } }', role="ENGINEER")
    assert [q["lineNumber"] for q in quarantined["quarantine"]] == [501]


async def test_backfill_from_csv_and_from_a_table(gw: Gateway, archive: Path) -> None:
    await register(gw)
    (archive / "more.csv").write_text("id,kind,amount,happened_at\n1,a,1.5,2025-02-01T00:00:00Z\n"
                                      "2,,,2025-02-02T00:00:00+01:00\n3,b,x,2025-02-03T00:00:00Z\n")
    data = await gw.ok(BACKFILL, {"input": {"contractId": "events", "source": {"path": "more.csv"},
                                            "timeRange": RANGE, "dedupeStrategy": "CONTRACT"}})
    done = (await gw.ok(CONFIRM, {"id": data["backfill"]["operationId"]}))["confirmOperation"]
    assert (done["accepted"], done["quarantined"]) == (2, 1)
    assert warehouse_rows(gw, f"SELECT id, kind, amount FROM {target(gw)} ORDER BY id") == [(1, "a", 1.5), (2, None, None)]
    # Another catalog table as the source: promote v1, register v2, copy v1 into it.
    await gw.ok('mutation { promoteTable(table: "events", version: 1) { dryRun } }')
    await register(gw)
    data = await gw.ok(BACKFILL, {"input": {"contractId": "events", "source": {"table": "events"},
                                            "timeRange": RANGE, "dedupeStrategy": "IDEMPOTENCY_KEY"}})
    assert data["backfill"]["estimatedNewRows"] == 2
    await gw.ok(CONFIRM, {"id": data["backfill"]["operationId"]})
    assert warehouse_rows(gw, f"SELECT COUNT(*) FROM {target(gw, version=2)}") == [(2,)]


async def test_paths_outside_the_archive_are_refused(gw: Gateway, archive: Path, tmp_path: Path) -> None:
    await register(gw)
    outside = tmp_path / "secret.ndjson"
    write_ndjson(outside, [event(1)])
    os.symlink(outside, archive / "link.ndjson")
    for path in ("../secret.ndjson", str(outside), "link.ndjson", "missing.ndjson"):
        code = await gw.error_code(BACKFILL, {"input": {"contractId": "events", "source": {"path": path},
                                                        "timeRange": RANGE, "dedupeStrategy": "CONTRACT"}})
        assert code == "INVALID_INPUT", path
    with pytest.raises(InvalidInput, match="outside the archive"):
        await gw.services.replay.backfill(principal("ADMIN"), "events", path="../secret.ndjson",
                                          start=_dt(RANGE["start"]), end=_dt(RANGE["end"]),
                                          dedupe_strategy="CONTRACT")


def _dt(text: str):  # type: ignore[no-untyped-def]
    from datetime import datetime

    return datetime.fromisoformat(text)
