"""Registering a contract and ingesting through GraphQL: idempotency, upsert, quarantine."""

from __future__ import annotations

from tests.ingestion.conftest import event, ingest, register, target, warehouse_rows
from tests.support.harness import Gateway


async def test_register_creates_isolated_shadow_version(gw: Gateway) -> None:
    contract = await register(gw)
    assert contract["id"] == "events" and contract["version"] == 1 and contract["state"] == "SHADOW"
    assert contract["versions"][0]["physicalName"] == target(gw)
    assert contract["ingestionSemantics"]["idempotencyKey"] == ["id"]
    assert warehouse_rows(gw, f"SELECT COUNT(*) FROM {target(gw)}") == [(0,)]
    table = await gw.ok("query { table(name: \"events\") { state versions { version state physicalName } } }",
                        role="ENGINEER")
    assert table["table"]["versions"] == [{"version": 1, "state": "SHADOW", "physicalName": target(gw)}]


async def test_same_batch_twice_changes_nothing(gw: Gateway) -> None:
    await register(gw)
    batch = [event(i, amount=float(i)) for i in range(1, 101)]
    first = await ingest(gw, batch)
    assert (first["accepted"], first["duplicates"], first["quarantined"]) == (100, 0, 0)
    before = warehouse_rows(gw, f"SELECT id, kind, amount, happened_at FROM {target(gw)} ORDER BY id")
    second = await ingest(gw, batch)
    assert (second["accepted"], second["duplicates"], second["quarantined"]) == (0, 100, 0)
    after = warehouse_rows(gw, f"SELECT id, kind, amount, happened_at FROM {target(gw)} ORDER BY id")
    assert after == before and len(after) == 100
    assert [r[0] for r in after] == list(range(1, 101))
