"""Malformed records are quarantined with reasons and counted; upsert and append semantics; NDJSON."""

from __future__ import annotations

import json

from tests.ingestion.conftest import event, ingest, register, target, warehouse_rows
from tests.support.harness import Gateway

QUARANTINE = """query($id: String!, $run: String) { quarantine(contractId: $id, runId: $run) {
  runId lineNumber reason raw } }"""


async def test_malformed_records_are_quarantined_not_lost(gw: Gateway) -> None:
    await register(gw)
    records = [
        event(1),
        {"kind": "click", "happened_at": "2025-03-01T10:00:00Z"},  # missing key
        {"id": "seven", "happened_at": "2025-03-01T10:00:00Z"},  # wrong type
        {"id": 3, "happened_at": "2025-03-01 10:00:00"},  # naive timestamp
        {"id": 4, "happened_at": "yesterday"},  # bad timestamp
        {"id": 5, "kind": "x" * 100, "happened_at": "2025-03-01T10:00:00Z"},  # huge for VARCHAR(32)
        {"id": 6, "colour": "red", "happened_at": "2025-03-01T10:00:00Z"},  # unknown column
        [1, 2, 3],  # not an object
        "8",  # a bare string, also not an object
        {"id": "9", "amount": "2.5", "happened_at": "2025-03-01T12:00:00+01:00"},  # lossless coercions: fine
    ]
    result = await ingest(gw, records)
    assert (result["accepted"], result["quarantined"], result["duplicates"]) == (2, 8, 0)
    assert result["accepted"] + result["quarantined"] == len(records)
    data = await gw.ok(QUARANTINE, {"id": "events", "run": result["runId"]}, role="ENGINEER")
    rows = sorted(data["quarantine"], key=lambda q: q["lineNumber"])
    reasons = {q["lineNumber"]: q["reason"] for q in rows}
    assert "missing value for required column 'id'" in reasons[2]
    assert "'seven' is not a whole number" in reasons[3]
    assert "no time zone" in reasons[4]
    assert "not an ISO 8601 timestamp" in reasons[5]
    assert "longer than the limit of 32" in reasons[6]
    assert "unknown column(s): colour" in reasons[7]
    assert "must be a JSON object" in reasons[8] and "must be a JSON object" in reasons[9]
    assert json.loads(rows[0]["raw"]) == records[1]
    stored = warehouse_rows(gw, f"SELECT id, amount FROM {target(gw)} ORDER BY id")
    assert stored == [(1, 1.5), (9, 2.5)]
    runs = await gw.ok("query { ingestionRuns(contractId: \"events\") { runId accepted duplicates quarantined status } }",
                       role="ENGINEER")
    assert runs["ingestionRuns"][0] == {"runId": result["runId"], "accepted": 2, "duplicates": 0,
                                        "quarantined": 8, "status": "SUCCEEDED"}


async def test_upsert_latest_wins_by_event_time(gw: Gateway) -> None:
    await register(gw)
    await ingest(gw, [event(1, kind="a", at="2025-03-01T10:00:00Z"), event(2, kind="a")])
    result = await ingest(gw, [event(1, kind="old", at="2025-03-01T09:00:00Z"),
                               event(2, kind="new", at="2025-03-01T11:00:00Z")])
    assert (result["accepted"], result["duplicates"]) == (1, 1)
    assert warehouse_rows(gw, f"SELECT id, kind FROM {target(gw)} ORDER BY id") == [(1, "a"), (2, "new")]


async def test_upsert_error_refuses_conflicting_records(gw: Gateway) -> None:
    await register(gw, conflict="error")
    await ingest(gw, [event(1, kind="a"), event(2, kind="a")])
    result = await ingest(gw, [event(1, kind="a"), event(2, kind="changed"), event(3), event(3, kind="other")])
    assert (result["accepted"], result["duplicates"], result["quarantined"]) == (1, 1, 2)
    assert any("stored with other values" in e for e in result["errors"])
    assert any("earlier in the same batch" in e for e in result["errors"])
    assert warehouse_rows(gw, f"SELECT id, kind FROM {target(gw)} ORDER BY id") == [(1, "a"), (2, "a"), (3, "click")]
    quarantined = await gw.ok(QUARANTINE, {"id": "events", "run": result["runId"]}, role="ENGINEER")
    assert len(quarantined["quarantine"]) == 2


async def test_append_skips_keys_seen_within_window(gw: Gateway) -> None:
    await register(gw, mode="append", window="1h")
    first = await ingest(gw, [event(1), event(2), event(2)])
    assert (first["accepted"], first["duplicates"]) == (2, 1)
    again = await ingest(gw, [event(1, kind="later"), event(3)])
    assert (again["accepted"], again["duplicates"]) == (1, 1)
    assert warehouse_rows(gw, f"SELECT id FROM {target(gw)} ORDER BY id") == [(1,), (2,), (3,)]


async def test_ndjson_endpoint_streams_and_quarantines_broken_lines(gw: Gateway) -> None:
    await register(gw)
    lines = [json.dumps(event(i)) for i in range(1, 2001)]
    lines[10] = '{"id": 11, "happened_at": '  # broken line
    lines[20] = "[]"
    body = ("\n".join(lines) + "\n\n").encode()

    async def chunks():  # type: ignore[no-untyped-def]
        for start in range(0, len(body), 777):  # split lines across chunks on purpose
            yield body[start:start + 777]

    response = await gw.client.post("/ingest/events", content=chunks(),
                                    headers={"Authorization": f"Bearer {gw.token('ENGINEER')}",
                                             "Content-Type": "application/x-ndjson"})
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["accepted"], result["quarantined"]) == (1998, 2)
    assert any(e.startswith("line 11: broken JSON") for e in result["errors"])
    assert warehouse_rows(gw, f"SELECT COUNT(*) FROM {target(gw)}") == [(1998,)]
    denied = await gw.client.post("/ingest/events", content=b"{}\n",
                                  headers={"Authorization": f"Bearer {gw.token('ANALYST')}"})
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "FORBIDDEN"
    anonymous = await gw.client.post("/ingest/events", content=b"{}\n")
    assert anonymous.status_code == 401


async def test_promoted_version_is_the_shadow_table_itself(gw: Gateway) -> None:
    await register(gw)
    await ingest(gw, [event(1), event(2)])
    data = await gw.ok('mutation { promoteTable(table: "events", version: 1) { table { state versions '
                       '{ version state physicalName rowCount } } } }')
    (version,) = data["promoteTable"]["table"]["versions"]
    assert version["state"] == "ACTIVE" and version["physicalName"] == target(gw)
    assert warehouse_rows(gw, f"SELECT COUNT(*) FROM {target(gw)}") == [(2,)]
    assert await gw.error_code('mutation { ingest(contractId: "events", records: [{id: 3}]) { runId } }',
                               role="ENGINEER") == "CONFLICT"
