"""Promote, deprecate, restore and roll back table versions: atomic, audited, previewable.

Each operation is a list of steps (one version, one transition) derived from the transition
table in ``gateway.domain``. Steps are applied with compare-and-set updates in one unit of
work; the database's one-ACTIVE index turns a lost race into a clean CONFLICT.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from gateway import metrics
from gateway.domain import (
    DISPLACED_ACTIVE_STATE,
    ROLLBACK_WINDOW_SECONDS,
    TRANSITION_CAPABILITY,
    TableState,
    Transition,
    transition_target,
)
from gateway.errors import Conflict, GatewayError, InvalidTransition, TableNotFound
from gateway.records import Principal, StateChange, TableRecord, VersionRecord
from gateway.services.access import require
from gateway.services.base import ServiceDeps, audit, aware
from gateway.services.events import EventKind, lifecycle_event
from gateway.services.visibility import TableView, table_view
from gateway.store.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class Step:
    version: int
    transition: Transition
    from_state: TableState
    to_state: TableState


@dataclass(frozen=True, slots=True)
class LifecycleOutcome:
    table: TableView
    dry_run: bool
    steps: tuple[Step, ...]
    message: str
    warnings: tuple[str, ...] = ()


# A gate the drift feature plugs in: given the table and the steps, raise to refuse a promotion
# or return warnings to show. None until drift lands.
PromotionGate = Callable[[UnitOfWork, TableRecord, VersionRecord, bool], Awaitable[tuple[str, ...]]]


def _step(version: VersionRecord, transition: Transition) -> Step:
    target = transition_target(transition, version.state)
    if target is None:
        raise InvalidTransition(
            f"{version.table} v{version.version} is {version.state.value}; "
            f"{transition.value.lower()} does not apply to a {version.state.value} version.",
            state=version.state.value,
        )
    return Step(version.version, transition, version.state, target)


def _displace_active(table: TableRecord, keep: int) -> list[Step]:
    return [
        Step(v.version, Transition.DEPRECATE, TableState.ACTIVE, DISPLACED_ACTIVE_STATE)
        for v in table.in_state(TableState.ACTIVE) if v.version != keep
    ]


class LifecycleService:
    def __init__(self, deps: ServiceDeps, promotion_gate: PromotionGate | None = None) -> None:
        self._deps = deps
        self.promotion_gate = promotion_gate

    async def promote(self, principal: Principal, table: str, version: int, *, dry_run: bool = False,
                      acknowledge_warnings: bool = False) -> LifecycleOutcome:
        try:
            outcome = await self._promote(principal, table, version, dry_run=dry_run,
                                          acknowledge_warnings=acknowledge_warnings)
        except Conflict:
            metrics.PROMOTIONS.labels(result="conflict").inc()
            raise
        except GatewayError:  # forbidden, invalid transition, breaking drift, unknown table
            metrics.PROMOTIONS.labels(result="refused").inc()
            raise
        metrics.PROMOTIONS.labels(result="dry_run" if outcome.dry_run else "success").inc()
        return outcome

    async def _promote(self, principal: Principal, table: str, version: int, *, dry_run: bool,
                       acknowledge_warnings: bool) -> LifecycleOutcome:
        require(principal, TRANSITION_CAPABILITY[Transition.PROMOTE])
        async with self._deps.uow() as uow:
            record, target = await self._load(uow, table, version)
            promote = _step(target, Transition.PROMOTE)
            # The displaced version moves first so the one-ACTIVE index never sees two.
            steps = [*_displace_active(record, target.version), promote]
            warnings: tuple[str, ...] = ()
            if self.promotion_gate is not None:
                warnings = await self.promotion_gate(uow, record, target, acknowledge_warnings)
            previous = next((s.version for s in steps if s.transition is Transition.DEPRECATE), None)
            message = (f"v{version} becomes ACTIVE" +
                       (f"; v{previous} becomes DEPRECATED" if previous else "") + "; no data is copied.")
            if dry_run:
                return LifecycleOutcome(_view(principal, record), True, tuple(steps), message, warnings)
            now = self._deps.clock()
            await self._apply(uow, principal, record.name, steps, now, reason=None)
            await uow.tables.add_promotion(record.name, version, previous, principal.email, now)
            await audit(uow, principal, "promoteTable", "table", record.name, now,
                        before=_states(record), after=_after(record, steps))
            await uow.system.bump_epoch()
            await uow.commit()
        self._publish(EventKind.PROMOTION, record.name, steps, principal, now, message)
        return await self._outcome(principal, table, steps, message, warnings)

    async def deprecate(self, principal: Principal, table: str, version: int,
                        reason: str | None) -> LifecycleOutcome:
        require(principal, TRANSITION_CAPABILITY[Transition.DEPRECATE])
        async with self._deps.uow() as uow:
            record, target = await self._load(uow, table, version)
            steps = [_step(target, Transition.DEPRECATE)]
            now = self._deps.clock()
            await self._apply(uow, principal, record.name, steps, now, reason=reason)
            await audit(uow, principal, "deprecateTable", "table", record.name, now,
                        before=_states(record), after={**_after(record, steps), "reason": reason})
            await uow.system.bump_epoch()
            await uow.commit()
        self._publish(EventKind.DEPRECATION, record.name, steps, principal, now, f"v{version} is DEPRECATED.")
        return await self._outcome(principal, table, steps, f"v{version} is DEPRECATED.", ())

    async def restore(self, principal: Principal, table: str, version: int) -> LifecycleOutcome:
        require(principal, TRANSITION_CAPABILITY[Transition.RESTORE])
        async with self._deps.uow() as uow:
            record, target = await self._load(uow, table, version)
            steps = [*_displace_active(record, target.version), _step(target, Transition.RESTORE)]
            now = self._deps.clock()
            await self._apply(uow, principal, record.name, steps, now, reason=None)
            await audit(uow, principal, "restoreTable", "table", record.name, now,
                        before=_states(record), after=_after(record, steps))
            await uow.system.bump_epoch()
            await uow.commit()
        self._publish(EventKind.RESTORE, record.name, steps, principal, now, f"v{version} is ACTIVE again.")
        return await self._outcome(principal, table, steps, f"v{version} is ACTIVE again.", ())

    async def rollback(self, principal: Principal, table: str) -> LifecycleOutcome:
        require(principal, TRANSITION_CAPABILITY[Transition.ROLLBACK])
        async with self._deps.uow() as uow:
            record = await self._table(uow, table)
            promotion = await uow.tables.last_promotion(record.name)
            if promotion is None or promotion.rolled_back_at is not None:
                raise InvalidTransition(f"{record.name} has no promotion left to roll back.")
            now = self._deps.clock()
            age = now - aware(promotion.at)
            if age > timedelta(seconds=ROLLBACK_WINDOW_SECONDS):
                raise InvalidTransition(
                    f"The promotion of {record.name} v{promotion.promoted_version} was "
                    f"{_hours(age)} hours ago, past the 24-hour rollback window; use "
                    "deprecateTable and restoreTable instead.")
            promoted = record.version(promotion.promoted_version)
            previous = record.version(promotion.previous_active_version) \
                if promotion.previous_active_version is not None else None
            if promoted is None or promoted.state is not TableState.ACTIVE or (
                    previous is not None and previous.state is not DISPLACED_ACTIVE_STATE):
                raise InvalidTransition(
                    f"{record.name} changed since its last promotion; a rollback would not restore "
                    "the state before it. Use deprecateTable and restoreTable instead.")
            # The promoted version leaves ACTIVE first, so the restored one can take its place.
            steps = [_step(promoted, Transition.ROLLBACK)]
            if previous is not None:
                steps.append(_step(previous, Transition.RESTORE))
            await self._apply(uow, principal, record.name, steps, now, reason="rollback")
            if not await uow.tables.mark_rolled_back(promotion.id, now):
                raise Conflict("That promotion was rolled back by someone else a moment ago.")
            await audit(uow, principal, "rollbackPromotion", "table", record.name, now,
                        before=_states(record), after=_after(record, steps))
            await uow.system.bump_epoch()
            await uow.commit()
        self._publish(EventKind.ROLLBACK, record.name, steps, principal, now,
                      f"Rolled back the promotion of {record.name} v{promotion.promoted_version}.")
        restored = f"; v{previous.version} is ACTIVE again" if previous else ""
        return await self._outcome(
            principal, table, tuple(steps),
            f"Rolled back the promotion of v{promotion.promoted_version} (now SHADOW){restored}.", ())

    # --- helpers -------------------------------------------------------------------------

    def _publish(self, kind: EventKind, table: str, steps: list[Step], principal: Principal,
                 at: datetime, message: str) -> None:
        # After commit only: a subscriber never hears of a change that was rolled back.
        self._deps.events.publish(lifecycle_event(kind, table, steps, principal.email, at, message))

    async def _table(self, uow: UnitOfWork, table: str) -> TableRecord:
        record = await uow.tables.get(table.lower())
        if record is None:
            raise TableNotFound(f"No table named {table!r}.")
        return record

    async def _load(self, uow: UnitOfWork, table: str, version: int) -> tuple[TableRecord, VersionRecord]:
        record = await self._table(uow, table)
        target = record.version(version)
        if target is None:
            known = ", ".join(f"v{v.version}" for v in record.versions)
            raise TableNotFound(f"{record.name} has no version v{version} (it has {known}).")
        return record, target

    async def _apply(self, uow: UnitOfWork, principal: Principal, table: str, steps: list[Step],
                     at: datetime, reason: str | None) -> None:
        for step in steps:
            moved = await uow.tables.compare_and_set_state(table, step.version, step.from_state,
                                                           step.to_state, at)
            if not moved:
                raise Conflict(f"{table} v{step.version} changed state while this ran; reload and retry.")
            await uow.tables.record_state_change(StateChange(
                table=table, version=step.version, from_state=step.from_state, to_state=step.to_state,
                transition=step.transition.value, actor=principal.email, reason=reason, at=at))

    async def _outcome(self, principal: Principal, table: str, steps: tuple[Step, ...] | list[Step],
                       message: str, warnings: tuple[str, ...]) -> LifecycleOutcome:
        async with self._deps.uow() as uow:
            record = await self._table(uow, table)
            history: tuple[StateChange, ...] = tuple(await uow.tables.history(record.name))
        return LifecycleOutcome(_view(principal, record, history), False, tuple(steps), message, warnings)


def _view(principal: Principal, record: TableRecord, history: tuple[StateChange, ...] = ()) -> TableView:
    view = table_view(principal.role, record, include_deprecated=True, history=history)
    assert view is not None  # lifecycle callers are admins, who see every state
    return view


def _states(record: TableRecord) -> dict[str, str]:
    return {f"v{v.version}": v.state.value for v in record.versions}


def _after(record: TableRecord, steps: list[Step]) -> dict[str, str]:
    after = _states(record)
    for step in steps:
        after[f"v{step.version}"] = step.to_state.value
    return after


def _hours(age: timedelta) -> int:
    return int(age.total_seconds() // 3600)
