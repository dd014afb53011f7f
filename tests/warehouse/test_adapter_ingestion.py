"""Ingestion on every live adapter, through the real GraphQL endpoint: shadow table, landing log,
quarantine, idempotent upsert and append — or WAREHOUSE_UNSUPPORTED where the adapter cannot write."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from gateway.domain import SystemMode
from gateway.warehouse.contract import Capability
from gateway.warehouse.naming import ingest_table_name, shadow_physical_name
from tests.ingestion.conftest import EVENTS_CONTRACT, INGEST, contract_input, event
from tests.support.databases import fresh_sqlite_catalog
from tests.support.harness import Gateway, start_gateway, stop_gateway
from tests.warehouse.live_adapters import ENGINES, LiveWarehouse, live_warehouse

QUARANTINE = """query($id: String!) { quarantine(contractId: $id) { lineNumber reason raw } }"""


@pytest.fixture(params=ENGINES)
def live(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveWarehouse]:
    with live_warehouse(request.param, tmp_path / "wh") as found:
        yield found


@pytest.fixture
async def gw(live: LiveWarehouse, sqlite_template: Path, tmp_path: Path) -> AsyncIterator[Gateway]:
    gateway = await start_gateway(fresh_sqlite_catalog(sqlite_template, tmp_path), live.url,
                                  initial_mode=SystemMode.INGESTION_READY)
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
