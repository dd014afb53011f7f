"""Ingestion runs and backfill progress reach `events` subscribers; contract SLAs reach /metrics.

A real gateway (uvicorn on 127.0.0.1) over a writable SQLite warehouse of its own; subscribers
speak graphql-transport-ws, mutations go over HTTP to the same server.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from websockets.asyncio.client import ClientConnection

from gateway import metrics
from gateway.domain import SystemMode
from tests.ingestion.conftest import EVENTS_CONTRACT, INGEST, contract_input, event
from tests.observability.live import serve
from tests.observability.test_events import _next_event, _subscribe
from tests.support.harness import Gateway, start_gateway, stop_gateway

BACKFILL = """mutation($input: BackfillInput!) { backfill(input: $input) { operationId estimatedRows } }"""
CONFIRM = "mutation($id: String!) { confirmOperation(operationId: $id) { status batches accepted } }"
RANGE = {"start": "2025-01-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"}


@pytest.fixture
async def gw(catalog_url: str, tmp_path: Path) -> AsyncIterator[Gateway]:
    archive = tmp_path / "archive"
    archive.mkdir()
    gateway = await start_gateway(catalog_url, f"sqlite:///{tmp_path / 'warehouse.db'}",
                                  initial_mode=SystemMode.INGESTION_READY, archive_dir=str(archive))
    try:
        yield gateway
    finally:
        await stop_gateway(gateway)


@pytest.fixture
def live(gw: Gateway) -> Iterator[str]:
    with serve(gw.settings) as address:
        yield address


@pytest.fixture
async def http(live: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"http://{live}", timeout=30) as client:
        yield client


async def _gql(http: httpx.AsyncClient, gw: Gateway, query: str, variables: dict[str, Any],
               role: str = "ENGINEER") -> dict[str, Any]:
    response = await http.post("/graphql", json={"query": query, "variables": variables},
                               headers={"Authorization": f"Bearer {gw.token(role)}"})
    body = response.json()
    assert not body.get("errors"), body
    return dict(body["data"])


async def _silent(ws: ClientConnection, seconds: float = 1.0) -> None:
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(ws.recv(), seconds)


async def test_an_ingestion_run_reaches_engineers_and_not_analysts(live: str, http: httpx.AsyncClient,
                                                                   gw: Gateway) -> None:
    await _gql(http, gw, EVENTS_CONTRACT, {"input": contract_input()})
    engineer = await _subscribe(live, gw.token("ENGINEER"), kinds=["INGESTION_RUN"])
    analyst = await _subscribe(live, gw.token("ANALYST"))
    try:
        run = (await _gql(http, gw, INGEST, {"id": "events", "records": [event(1), event(2), event(2), {"id": 3}]}))
        heard = await _next_event(engineer)
        assert heard["kind"] == "INGESTION_RUN" and heard["table"] == "events"
        assert heard["actor"] == "engineer@example.com" and heard["states"] == ["SHADOW"]
        assert heard["details"] == {"runId": run["ingest"]["runId"], "status": "SUCCEEDED", "accepted": 2,
                                    "duplicates": 1, "quarantined": 1}
        await _silent(analyst)  # ingestion (and SHADOW versions) are for ENGINEER and above
    finally:
        await engineer.close()
        await analyst.close()


async def test_backfill_progress_arrives_per_batch_then_finished(live: str, http: httpx.AsyncClient,
                                                                 gw: Gateway) -> None:
    await _gql(http, gw, EVENTS_CONTRACT, {"input": contract_input()})
    archive = Path(gw.settings.archive_dir)
    (archive / "events.ndjson").write_text("".join(json.dumps(event(i)) + "\n" for i in range(1, 251)))
    dry = (await _gql(http, gw, BACKFILL, {"input": {
        "contractId": "events", "source": {"path": "events.ndjson"}, "timeRange": RANGE, "batchSize": 100,
        "dedupeStrategy": "IDEMPOTENCY_KEY"}}, role="ADMIN"))["backfill"]
    admin = await _subscribe(live, gw.token("ADMIN"), kinds=["BACKFILL_PROGRESS"])
    try:
        done = (await _gql(http, gw, CONFIRM, {"id": dry["operationId"]}, role="ADMIN"))["confirmOperation"]
        assert (done["status"], done["batches"], done["accepted"]) == ("DONE", 3, 250)
        heard = [await _next_event(admin) for _ in range(4)]
        progress = [(e["details"]["batchesDone"], e["details"]["rowsDone"], e["details"]["finished"]) for e in heard]
        assert progress == [(1, 100, False), (2, 200, False), (3, 250, False), (3, 250, True)]
        assert all(e["details"]["operationId"] == dry["operationId"] and e["details"]["rowsTotal"] == 250
                   for e in heard)
        assert heard[-1]["message"].endswith("finished.")
    finally:
        await admin.close()


async def _scrape(client: httpx.AsyncClient, token: str) -> str:
    response = await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return response.text


async def test_contract_slas_reach_the_gauge_at_registration_and_from_the_catalog(
        gw: Gateway, catalog_url: str, tmp_path: Path) -> None:
    metrics.INGESTION_SLA_SECONDS.clear()
    await gw.ok(EVENTS_CONTRACT, {"input": contract_input(sla={"maxLagSeconds": 600})}, role="ENGINEER")
    await gw.ok(EVENTS_CONTRACT, {"input": contract_input("clicks")}, role="ENGINEER")
    text = await _scrape(gw.client, gw.token("ENGINEER"))
    assert 'spyne_ingestion_sla_seconds{contract_id="events"} 600.0' in text
    assert 'spyne_ingestion_sla_seconds{contract_id="clicks"} 3600.0' in text  # no SLA: the default

    # A gateway started later over the same catalog (a restart, another worker) knows them too.
    metrics.INGESTION_SLA_SECONDS.clear()
    metrics.INGESTION_LAG_SECONDS.clear()
    await gw.ok(INGEST, {"id": "events", "records": [event(1, at="2025-03-01T10:00:00Z")]}, role="ENGINEER")
    metrics.INGESTION_LAG_SECONDS.clear()
    later = await start_gateway(catalog_url, gw.settings.warehouse_url)
    try:
        text = await _scrape(later.client, later.token("ENGINEER"))
        assert 'spyne_ingestion_sla_seconds{contract_id="events"} 600.0' in text
        assert 'spyne_ingestion_sla_seconds{contract_id="clicks"} 3600.0' in text
        # The lag is recomputed from the catalog: a silent producer's lag keeps growing.
        lag = REGISTRY.get_sample_value("spyne_ingestion_lag_seconds", {"contract_id": "events"})
        assert lag is not None and lag > 600
    finally:
        await stop_gateway(later)
