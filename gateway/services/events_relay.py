"""Live events across workers: store each published event in the catalog's outbox, tail it.

Publishing hands the event to :class:`EventRelay`, which appends it to the ``events`` table
(one short transaction, after the publisher's own commit) from a writer task. Every process
that has subscribers tails the table — ``id > last seen``, every ``POLL_SECONDS`` and at once
after its own writes — and delivers what it reads to its subscribers, its own events included,
so every subscriber on every worker sees events in the same order with the same ids.

Events are not the audit log: rows older than ``RETENTION`` are deleted by the writer, at most
every ``PRUNE_EVERY_SECONDS``. When the catalog cannot take an event it is still delivered to
this process's subscribers (with a per-process id) and a warning is logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import uuid
from collections import deque
from datetime import UTC, datetime, timedelta
from typing import Any

from gateway.domain import TableState
from gateway.services.events import Event, EventBus, EventKind
from gateway.store.events import EventsRepository, OutboxRecord
from gateway.store.unit_of_work import UnitOfWorkFactory

log = logging.getLogger("spyne.events")

POLL_SECONDS = 0.25
BATCH = 500
RETENTION = timedelta(days=1)
PRUNE_EVERY_SECONDS = 600.0
QUIET_LOG_SECONDS = 60.0  # one warning a minute while the catalog is unreachable, not four a second


def encode(event: Event) -> dict[str, Any]:
    return {"kind": event.kind.value, "at": event.at.isoformat(), "message": event.message,
            "table": event.table, "contractId": event.contract_id, "actor": event.actor,
            "states": sorted(s.value for s in event.states), "details": dict(event.details)}


def decode(record: OutboxRecord) -> Event:
    p = record.payload
    return Event(kind=EventKind(p["kind"]), at=datetime.fromisoformat(p["at"]), message=str(p["message"]),
                 table=p.get("table"), contract_id=p.get("contractId"), actor=p.get("actor"),
                 states=frozenset(TableState(s) for s in p.get("states", ())), details=dict(p.get("details") or {}),
                 id=record.id)


class EventRelay:
    def __init__(self, uow: UnitOfWorkFactory, bus: EventBus, *, poll_seconds: float = POLL_SECONDS,
                 retention: timedelta = RETENTION, prune_every_seconds: float = PRUNE_EVERY_SECONDS) -> None:
        self.origin = uuid.uuid4().hex  # this process's writes, in the outbox
        self._uow = uow
        self._bus = bus
        self._poll = poll_seconds
        self._retention = retention
        self._prune_every = prune_every_seconds
        self._pending: deque[Event] = deque()
        self._lock = threading.Lock()
        self._writer: asyncio.Task[None] | None = None
        self._tailer: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._pruned_at = float("-inf")
        self._warned_at = float("-inf")
        bus.attach(self)

    # --- writing -------------------------------------------------------------------------------

    def submit(self, event: Event) -> bool:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return False  # no loop to write from (a bare thread): the bus delivers locally
        with self._lock:
            self._pending.append(event)
        if self._writer is None or self._writer.done():
            self._writer = loop.create_task(self._drain(), name="spyne-events-writer")
        return True

    async def _drain(self) -> None:
        # One writer per process keeps this process's events in publishing order.
        while True:
            with self._lock:
                if not self._pending:
                    return
                event = self._pending.popleft()
            if await self._store(event):
                if self._wake is not None:
                    self._wake.set()  # our own tailer reads it now rather than at the next poll
            else:
                self._bus.publish_local(event)

    async def _store(self, event: Event) -> bool:
        now = datetime.now(UTC)
        try:
            async with self._uow() as uow:
                outbox = EventsRepository(uow.session)
                await outbox.append(self.origin, event.kind.value, now, encode(event))
                if time.monotonic() - self._pruned_at > self._prune_every:
                    await outbox.prune(now - self._retention)
                    self._pruned_at = time.monotonic()
                await uow.commit()
            return True
        except Exception as exc:  # the catalog is down or not migrated: local delivery still works
            self._warn("could not store a live event", exc)
            return False

    # --- tailing -------------------------------------------------------------------------------

    def subscribed(self) -> None:
        if self._tailer is None or self._tailer.done():
            loop = asyncio.get_running_loop()
            self._wake = asyncio.Event()
            self._tailer = loop.create_task(self._tail(datetime.now(UTC)), name="spyne-events-tailer")

    async def _tail(self, since: datetime) -> None:
        """Deliver outbox rows to local subscribers until none is left."""
        last: int | None = None
        while self._bus.subscriber_count > 0:
            try:
                async with self._uow() as uow:
                    outbox = EventsRepository(uow.session)
                    if last is None:  # start where the first subscriber came in
                        last = await outbox.newest_id(before=since)
                    records = await outbox.after(last, BATCH)
            except Exception as exc:
                self._warn("could not read live events", exc)
                await self._sleep(self._poll * 4)
                continue
            for record in records:
                last = record.id
                try:
                    event = decode(record)
                except (KeyError, TypeError, ValueError):
                    log.warning("skipped an unreadable live event", extra={"event_id": record.id})
                    continue
                self._bus.deliver(event)
            if len(records) < BATCH:
                await self._sleep(self._poll)

    async def _sleep(self, seconds: float) -> None:
        assert self._wake is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()

    def _warn(self, what: str, exc: Exception) -> None:
        if time.monotonic() - self._warned_at > QUIET_LOG_SECONDS:
            self._warned_at = time.monotonic()
            log.warning("%s: %s", what, type(exc).__name__)
