"""Live events for the IDE: an in-process bus that services publish to after they commit.

``deps.events.publish(event)`` never blocks and never fails the caller: each subscriber has its
own bounded queue, and when a slow subscriber's queue is full the *oldest* event is dropped,
counted (``spyne_events_dropped_total``) and reported to that subscriber as ``missedBefore`` on
the next event it receives, so the IDE knows to refetch.

Who sees what is decided per event from the domain's rules: the event names the capability it
needs and every table state it mentions, and a role sees it only if it holds the capability and
may see every one of those states (so SHADOW versions reach ENGINEER and above only).

Across workers: with a relay attached (``gateway.services.events_relay``, what the gateway
does), every published event is first written to the catalog's ``events`` outbox, and each
process tails that table and delivers to its own subscribers, so a subscriber hears every
worker's events, in the outbox's id order, with ids that mean the same on every worker. Without
a relay (or when the catalog cannot store the event) delivery is in-process only.
"""

from __future__ import annotations

import asyncio
import enum
import itertools
import threading
from collections import deque
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType
from typing import Any, Protocol

from gateway import metrics
from gateway.domain import Capability, Role, TableState, can_see_state, has_capability
from gateway.errors import Conflict
from gateway.records import Principal
from gateway.services.access import require

DEFAULT_QUEUE_SIZE = 256
MAX_SUBSCRIBERS = 1_000


class EventKind(enum.Enum):
    PROMOTION = "PROMOTION"
    DEPRECATION = "DEPRECATION"
    RESTORE = "RESTORE"
    ROLLBACK = "ROLLBACK"
    DRIFT_DETECTED = "DRIFT_DETECTED"
    INGESTION_RUN = "INGESTION_RUN"
    BACKFILL_PROGRESS = "BACKFILL_PROGRESS"


# The capability an event of each kind needs before its states are even considered.
KIND_CAPABILITY: Mapping[EventKind, Capability] = MappingProxyType({
    EventKind.PROMOTION: Capability.READ_CATALOG,
    EventKind.DEPRECATION: Capability.READ_CATALOG,
    EventKind.RESTORE: Capability.READ_CATALOG,
    EventKind.ROLLBACK: Capability.READ_CATALOG,
    EventKind.DRIFT_DETECTED: Capability.READ_CATALOG,
    EventKind.INGESTION_RUN: Capability.VIEW_INGESTION,
    EventKind.BACKFILL_PROGRESS: Capability.VIEW_INGESTION,
})


@dataclass(frozen=True, slots=True)
class Event:
    kind: EventKind
    at: datetime
    message: str
    table: str | None = None
    contract_id: str | None = None
    actor: str | None = None
    states: frozenset[TableState] = frozenset()  # every state the event reveals
    details: Mapping[str, Any] = field(default_factory=dict)  # JSON-able, bounded
    id: int = 0  # assigned by the bus, increasing within a process

    def visible_to(self, role: Role) -> bool:
        return has_capability(role, KIND_CAPABILITY[self.kind]) and all(
            can_see_state(role, state) for state in self.states)


@dataclass(frozen=True, slots=True)
class Delivery:
    event: Event
    missed_before: int  # events dropped for this subscriber just before this one


class Relay(Protocol):
    """What carries events between processes (see ``gateway.services.events_relay``)."""

    def submit(self, event: Event) -> bool:
        """Take the event to store and deliver it later; False when it cannot (deliver locally)."""
        ...

    def subscribed(self) -> None:
        """A subscriber arrived, on the running loop: make sure the outbox is being tailed."""
        ...


class StepLike(Protocol):
    @property
    def version(self) -> int: ...
    @property
    def from_state(self) -> TableState: ...
    @property
    def to_state(self) -> TableState: ...


# --- constructors others call, so that no publisher has to know the visibility rules ----------


def lifecycle_event(kind: EventKind, table: str, steps: Iterable[StepLike], actor: str, at: datetime,
                    message: str) -> Event:
    moves = list(steps)
    return Event(
        kind=kind, at=at, message=message, table=table, actor=actor,
        states=frozenset(s for step in moves for s in (step.from_state, step.to_state)),
        details={"changes": [{"version": s.version, "from": s.from_state.value, "to": s.to_state.value}
                             for s in moves]},
    )


def drift_event(*, table: str | None, contract_id: str | None, severity: str, report_id: str | int,
                changes: int, at: datetime, states: Iterable[TableState] = ()) -> Event:
    return Event(kind=EventKind.DRIFT_DETECTED, at=at, table=table, contract_id=contract_id,
                 message=f"{severity} drift on {table or contract_id}: {changes} change(s).",
                 states=frozenset(states),
                 details={"severity": severity, "reportId": str(report_id), "changes": changes})


def ingestion_run_event(*, contract_id: str, table: str | None, run_id: str | int, accepted: int,
                        duplicates: int, quarantined: int, at: datetime, status: str = "SUCCEEDED",
                        actor: str | None = None) -> Event:
    return Event(kind=EventKind.INGESTION_RUN, at=at, table=table, contract_id=contract_id, actor=actor,
                 message=f"Run {run_id} on {contract_id} {status.lower()}: {accepted} accepted, "
                         f"{duplicates} duplicates, {quarantined} quarantined.",
                 states=frozenset({TableState.SHADOW}),
                 details={"runId": str(run_id), "status": status, "accepted": accepted, "duplicates": duplicates,
                          "quarantined": quarantined})


def backfill_progress_event(*, contract_id: str, table: str | None, operation_id: str, rows_done: int,
                            rows_total: int | None, at: datetime, finished: bool = False,
                            operation: str = "BACKFILL", batches_done: int | None = None,
                            actor: str | None = None) -> Event:
    """Progress of a backfill (per batch, then finished), or a replay's completion (``operation``)."""
    total = f" of {rows_total}" if rows_total is not None else ""
    return Event(kind=EventKind.BACKFILL_PROGRESS, at=at, table=table, contract_id=contract_id, actor=actor,
                 message=f"{operation.capitalize()} {operation_id} on {contract_id}: {rows_done}{total} rows"
                         + (", finished." if finished else "."),
                 states=frozenset({TableState.SHADOW}),
                 details={"operationId": operation_id, "operation": operation, "rowsDone": rows_done,
                          "rowsTotal": rows_total, "batchesDone": batches_done, "finished": finished})


# --- the bus ----------------------------------------------------------------------------------


class Subscription:
    """One subscriber's bounded queue; iterate it, and close it (``async with``) when done."""

    def __init__(self, bus: EventBus, role: Role, kinds: frozenset[EventKind] | None, size: int) -> None:
        self._bus = bus
        self.role = role
        self.kinds = kinds
        self._queue: deque[Event] = deque()
        self._size = size
        self._missed = 0
        self.dropped = 0
        self._wakeup = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self.closed = False

    def wants(self, event: Event) -> bool:
        return (self.kinds is None or event.kind in self.kinds) and event.visible_to(self.role)

    def offer(self, event: Event) -> None:
        """Called on the subscriber's loop; drops the oldest event when the queue is full."""
        if self.closed:
            return
        if len(self._queue) >= self._size:
            self._queue.popleft()
            self._missed += 1
            self.dropped += 1
            metrics.EVENTS_DROPPED.inc()
        self._queue.append(event)
        self._wakeup.set()

    def deliver_from_any_thread(self, event: Event) -> None:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self.offer(event)
        elif not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.offer, event)

    async def next(self) -> Delivery:
        while not self._queue:
            self._wakeup.clear()
            await self._wakeup.wait()
        missed, self._missed = self._missed, 0
        return Delivery(self._queue.popleft(), missed)

    def __aiter__(self) -> AsyncIterator[Delivery]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Delivery]:
        while not self.closed:
            yield await self.next()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._bus._remove(self)

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(self, *_: object) -> None:
        self.close()


class EventBus:
    """Publish from any service (any thread); subscribers receive what their role may see."""

    def __init__(self, queue_size: int = DEFAULT_QUEUE_SIZE) -> None:
        self.queue_size = queue_size
        self._subscribers: list[Subscription] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._relay: Relay | None = None

    def attach(self, relay: Relay) -> None:
        self._relay = relay

    def publish(self, event: Event) -> Event:
        if self._relay is not None and self._relay.submit(event):
            return event  # the relay stores it, then delivers it with its outbox id
        return self.publish_local(event)

    def publish_local(self, event: Event) -> Event:
        """Deliver to this process's subscribers only, with a per-process id."""
        return self.deliver(replace(event, id=next(self._ids)))

    def deliver(self, stamped: Event) -> Event:
        """Hand an event that already has its id to every local subscriber that may see it."""
        with self._lock:
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            if subscriber.wants(stamped):
                subscriber.deliver_from_any_thread(stamped)
        return stamped

    def subscribe(self, role: Role, kinds: Iterable[EventKind] | None = None,
                  queue_size: int | None = None) -> Subscription:
        wanted = frozenset(kinds) if kinds is not None else None
        subscription = Subscription(self, role, wanted, queue_size or self.queue_size)
        with self._lock:
            if len(self._subscribers) >= MAX_SUBSCRIBERS:
                raise RuntimeError("too many event subscribers")
            self._subscribers.append(subscription)
            metrics.EVENT_SUBSCRIBERS.set(len(self._subscribers))
        if self._relay is not None:
            self._relay.subscribed()
        return subscription

    def _remove(self, subscription: Subscription) -> None:
        with self._lock:
            if subscription in self._subscribers:
                self._subscribers.remove(subscription)
            metrics.EVENT_SUBSCRIBERS.set(len(self._subscribers))

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)


class EventsService:
    """The subscription's one service call: who may listen, to which kinds."""

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus

    def subscribe(self, principal: Principal, kinds: Iterable[EventKind] | None = None) -> Subscription:
        require(principal, Capability.READ_CATALOG)
        try:
            return self.bus.subscribe(principal.role, kinds)
        except RuntimeError:
            raise Conflict("Too many live subscriptions on this server; try again shortly.") from None
