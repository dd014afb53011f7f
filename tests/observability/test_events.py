"""The `events` subscription over a real graphql-transport-ws WebSocket, and the bus behind it."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from prometheus_client import REGISTRY
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from gateway.domain import Role, TableState
from gateway.services.events import (
    Event,
    EventBus,
    EventKind,
    backfill_progress_event,
    drift_event,
    ingestion_run_event,
)
from tests.observability.live import serve
from tests.support.harness import Gateway

SUBSCRIBE = "subscription($kinds: [EventKind!]) { events(kinds: $kinds) { id kind table message states details missedBefore actor } }"
NOW = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.fixture
def live(gateway: Gateway) -> Iterator[str]:
    with serve(gateway.settings) as address:
        yield address


@pytest.fixture
async def http(live: str, gateway: Gateway) -> AsyncIterator[Any]:
    import httpx

    async with httpx.AsyncClient(base_url=f"http://{live}") as client:
        yield client


async def _connect(address: str, payload: dict[str, Any] | None) -> ClientConnection:
    ws = await connect(f"ws://{address}/graphql", subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
    await ws.send(json.dumps({"type": "connection_init", "payload": payload or {}}))
    return ws


async def _subscribe(address: str, token: str, kinds: list[str] | None = None) -> ClientConnection:
    ws = await _connect(address, {"Authorization": f"Bearer {token}"})
    ack = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert ack["type"] == "connection_ack", ack
    await ws.send(json.dumps({"id": "1", "type": "subscribe",
                              "payload": {"query": SUBSCRIBE, "variables": {"kinds": kinds}}}))
    await asyncio.sleep(0.3)  # the subscription is registered once the server ran the resolver
    return ws


async def _next_event(ws: ClientConnection, timeout: float = 10) -> dict[str, Any]:
    message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    assert message["type"] == "next", message
    assert not message["payload"].get("errors"), message
    return dict(message["payload"]["data"]["events"])


async def _mutate(http: Any, gateway: Gateway, query: str) -> None:
    response = await http.post("/graphql", json={"query": query},
                               headers={"Authorization": f"Bearer {gateway.token('ADMIN')}"})
    assert not response.json().get("errors"), response.json()


@pytest.mark.parametrize("payload", [None, {"Authorization": "Bearer not-a-token"}, {"Authorization": 42}])
async def test_a_connection_without_a_valid_token_is_refused(live: str, payload: dict[str, Any] | None) -> None:
    ws = await _connect(live, payload)
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


async def test_events_reach_each_role_as_far_as_it_may_see(live: str, http: Any, gateway: Gateway) -> None:
    viewer = await _subscribe(live, gateway.token("VIEWER"))
    engineer = await _subscribe(live, gateway.token("ENGINEER"))
    only_rollbacks = await _subscribe(live, gateway.token("ADMIN"), kinds=["ROLLBACK"])
    try:
        # order_events v1 is SHADOW: its promotion reveals a SHADOW version, so ENGINEER+ only.
        await _mutate(http, gateway, 'mutation { promoteTable(table: "order_events", version: 1) { message } }')
        await _mutate(http, gateway, 'mutation { deprecateTable(table: "orders", version: 2) { message } }')
        first = await _next_event(engineer)
        assert first["kind"] == "PROMOTION" and first["table"] == "order_events"
        assert first["actor"] == "admin@example.com" and first["missedBefore"] == 0
        assert first["details"]["changes"] == [{"version": 1, "from": "SHADOW", "to": "ACTIVE"}]
        second = await _next_event(engineer)
        assert second["kind"] == "DEPRECATION" and second["table"] == "orders"
        assert int(second["id"]) > int(first["id"])
        seen_by_viewer = await _next_event(viewer)
        assert seen_by_viewer["kind"] == "DEPRECATION"  # the promotion never reached the viewer
        assert "SHADOW" not in json.dumps(seen_by_viewer)
        await _mutate(http, gateway, 'mutation { rollbackPromotion(table: "order_events") { message } }')
        rolled = await _next_event(only_rollbacks)
        assert rolled["kind"] == "ROLLBACK" and rolled["states"] == ["ACTIVE", "SHADOW"]
    finally:
        for ws in (viewer, engineer, only_rollbacks):
            await ws.close()


async def test_subscribers_are_counted_while_connected(live: str, gateway: Gateway) -> None:
    ws = await _subscribe(live, gateway.token("ANALYST"))
    assert (REGISTRY.get_sample_value("spyne_event_subscribers") or 0) >= 1
    await ws.close()


# --- the bus itself ---------------------------------------------------------------------------


def _event(n: int, states: frozenset[TableState] = frozenset({TableState.ACTIVE})) -> Event:
    return Event(kind=EventKind.DEPRECATION, at=NOW, message=f"event {n}", table="t", states=states)


async def test_a_full_queue_drops_the_oldest_and_says_how_many() -> None:
    bus = EventBus(queue_size=3)
    dropped_before = REGISTRY.get_sample_value("spyne_events_dropped_total") or 0
    async with bus.subscribe(Role.VIEWER) as subscription:
        for n in range(10):
            bus.publish(_event(n))
        first = await subscription.next()
        assert first.event.message == "event 7" and first.missed_before == 7
        rest = [(await subscription.next()) for _ in range(2)]
        assert [d.event.message for d in rest] == ["event 8", "event 9"]
        assert all(d.missed_before == 0 for d in rest)
    assert REGISTRY.get_sample_value("spyne_events_dropped_total") == dropped_before + 7
    assert bus.subscriber_count == 0


async def test_events_published_from_a_worker_thread_arrive() -> None:
    bus = EventBus()
    async with bus.subscribe(Role.ENGINEER) as subscription:
        thread = threading.Thread(target=lambda: bus.publish(backfill_progress_event(
            contract_id="c1", table="t", operation_id="op", rows_done=500, rows_total=1000, at=NOW)))
        thread.start()
        thread.join()
        delivery = await asyncio.wait_for(subscription.next(), 5)
        assert delivery.event.details["rowsDone"] == 500


@pytest.mark.parametrize(("event", "lowest"), [
    (ingestion_run_event(contract_id="c", table="t", run_id=1, accepted=1, duplicates=0, quarantined=0,
                         at=NOW), Role.ENGINEER),
    (backfill_progress_event(contract_id="c", table="t", operation_id="o", rows_done=1, rows_total=None,
                             at=NOW), Role.ENGINEER),
    (drift_event(table="t", contract_id=None, severity="BREAKING", report_id=1, changes=2, at=NOW),
     Role.VIEWER),
    (drift_event(table="t", contract_id="c", severity="WARNING", report_id=2, changes=1, at=NOW,
                 states=[TableState.SHADOW]), Role.ENGINEER),
])
def test_who_sees_each_kind_of_event(event: Event, lowest: Role) -> None:
    assert [r for r in Role if event.visible_to(r)] == [r for r in Role if r.at_least(lowest)]
