"""Live events across workers: every process tails the catalog's `events` outbox.

Two gateway instances on one catalog (SQLite file, and PostgreSQL when configured): a change
made through one reaches a subscriber connected to the other, once, with the same id.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from gateway.domain import Role, TableState
from gateway.services.events import Event, EventBus, EventKind
from gateway.services.events_relay import EventRelay
from gateway.store.engine import create_catalog_engine
from gateway.store.events_models import OutboxEventRow
from gateway.store.unit_of_work import UnitOfWorkFactory
from tests.observability.live import serve
from tests.observability.test_events import _next_event, _subscribe
from tests.support.harness import Gateway, principal

PROMOTE = 'mutation { promoteTable(table: "order_events", version: 1) { message } }'
DEPRECATE = 'mutation { deprecateTable(table: "orders", version: 2) { message } }'


@pytest.fixture
def other_worker(gateway: Gateway) -> Iterator[str]:
    """A second app instance (its own services, bus and relay) on the same catalog, over uvicorn."""
    with serve(gateway.settings) as address:
        yield address


async def test_a_promotion_through_one_worker_reaches_a_subscriber_of_another_within_a_second(
        gateway: Gateway, other_worker: str) -> None:
    ws = await _subscribe(other_worker, gateway.token("ENGINEER"))
    try:
        await gateway.ok(PROMOTE)
        promoted_at = time.monotonic()
        heard = await _next_event(ws, timeout=5)
        assert time.monotonic() - promoted_at < 1.0
        assert heard["kind"] == "PROMOTION" and heard["table"] == "order_events"
        assert heard["details"]["changes"] == [{"version": 1, "from": "SHADOW", "to": "ACTIVE"}]
    finally:
        await ws.close()


async def test_each_worker_delivers_every_event_once_in_the_same_order_with_the_same_ids(
        gateway: Gateway, other_worker: str) -> None:
    import httpx

    remote = await _subscribe(other_worker, gateway.token("ADMIN"))
    async with gateway.services.events.subscribe(principal("ADMIN")) as local:
        try:
            await gateway.ok(PROMOTE)  # through this worker
            async with httpx.AsyncClient(base_url=f"http://{other_worker}") as client:  # through the other
                body = (await client.post("/graphql", json={"query": DEPRECATE},
                                          headers={"Authorization": f"Bearer {gateway.token('ADMIN')}"})).json()
            assert not body.get("errors"), body
            here = [(await asyncio.wait_for(local.next(), 5)).event for _ in range(2)]
            there = [await _next_event(remote, timeout=5) for _ in range(2)]
            assert [e.kind for e in here] == [EventKind.PROMOTION, EventKind.DEPRECATION]
            assert [e["kind"] for e in there] == ["PROMOTION", "DEPRECATION"]
            assert [str(e.id) for e in here] == [e["id"] for e in there]
            assert here[0].id < here[1].id
            with pytest.raises(TimeoutError):  # no duplicate of our own event from the tailer
                await asyncio.wait_for(local.next(), 0.8)
        finally:
            await remote.close()


def _event(n: int) -> Event:
    return Event(kind=EventKind.DEPRECATION, at=datetime(2025, 1, 1, tzinfo=UTC), message=f"event {n}",
                 table="t", states=frozenset({TableState.ACTIVE}), details={"n": n})


async def _outbox_rows(uow: UnitOfWorkFactory) -> int:
    async with uow() as unit:
        return int(await unit.session.scalar(select(func.count()).select_from(OutboxEventRow)) or 0)


async def test_the_outbox_keeps_a_day_not_forever(catalog_url: str) -> None:
    uow = UnitOfWorkFactory(create_catalog_engine(catalog_url))
    bus = EventBus()
    # Everything already stored is older than "now - 0": the next write prunes it.
    EventRelay(uow, bus, retention=timedelta(0), prune_every_seconds=0)
    try:
        async with bus.subscribe(Role.VIEWER) as subscription:
            for n in range(3):
                bus.publish(_event(n))
                delivered = await asyncio.wait_for(subscription.next(), 5)
                assert delivered.event.details == {"n": n} and delivered.event.id > 0
            assert await _outbox_rows(uow) == 1  # only the newest is left
    finally:
        await uow.engine.dispose()


async def test_without_an_outbox_events_still_reach_local_subscribers(tmp_path: Path) -> None:
    uow = UnitOfWorkFactory(create_catalog_engine(f"sqlite:///{tmp_path / 'not-migrated.db'}"))
    bus = EventBus()
    EventRelay(uow, bus, poll_seconds=0.05)
    try:
        async with bus.subscribe(Role.VIEWER) as subscription:
            bus.publish(_event(1))
            delivered = await asyncio.wait_for(subscription.next(), 5)
            assert delivered.event.message == "event 1"
    finally:
        await uow.engine.dispose()
