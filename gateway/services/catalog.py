"""Reading the catalog, registering external tables, and the planner's catalog snapshot."""

from __future__ import annotations

import asyncio
import base64
import time
from dataclasses import dataclass

from gateway.domain import Capability, TableState, visible_states
from gateway.errors import CatalogUnavailable, Conflict, Forbidden, InvalidInput, TableNotFound
from gateway.records import Principal, StateChange, VersionRecord
from gateway.services.access import require
from gateway.services.base import ServiceDeps, audit
from gateway.services.join_evidence import planner_join
from gateway.services.statistics import audited, measure_statistics
from gateway.services.visibility import TableView, table_view
from gateway.store.batching import SharedRead
from gateway.store.system import read_epoch
from gateway.store.tables import table_listing, table_with_history
from gateway.store.unit_of_work import UnitOfWork
from gateway.warehouse.naming import (
    PhysicalNameError,
    logical_name_problem,
    parse_physical_name,
    physical_name_problem,
)
from planner.catalog import AcceptedJoin, CatalogSnapshot, Column
from planner.catalog import TableVersion as PlannerVersion

MAX_PAGE = 200


@dataclass(frozen=True, slots=True)
class TablePage:
    tables: tuple[TableView, ...]
    total: int
    end_cursor: str | None
    has_next_page: bool


def encode_cursor(name: str) -> str:
    return base64.urlsafe_b64encode(f"table:{name}".encode()).decode()


def decode_cursor(cursor: str) -> str:
    try:
        kind, _, name = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        kind, name = "", ""
    if kind != "table" or not name:
        raise InvalidInput("That cursor is not one this API gave out; start again without `after`.")
    return name


def validate_table_name(name: str) -> str:
    lowered = name.strip().lower()
    problem = logical_name_problem(lowered)
    if problem:
        raise InvalidInput(f"{name!r} cannot name a table: {problem}.")
    return lowered


class CatalogService:
    def __init__(self, deps: ServiceDeps, *, epoch_poll_seconds: float = 0.25) -> None:
        self._deps = deps
        self._snapshot: CatalogSnapshot | None = None
        self._snapshot_lock = asyncio.Lock()
        self._epoch_poll_seconds = epoch_poll_seconds
        self._epoch_checked_at = float("-inf")
        self._invalidations = 0
        # Requests that need the epoch at the same moment share one read of it.
        self._read_epoch = SharedRead(self._epoch_now)
        deps.uow.on_epoch_committed(self.invalidate)

    def invalidate(self) -> None:
        """Forget when the epoch was last checked: the next snapshot() reads it again."""
        self._invalidations += 1
        self._epoch_checked_at = float("-inf")

    async def list_tables(self, principal: Principal, *, state: TableState | None = None,
                          search: str | None = None, include_deprecated: bool = False,
                          first: int = 50, after: str | None = None) -> TablePage:
        require(principal, Capability.READ_CATALOG)
        states = set(visible_states(principal.role))
        if state is not None:
            if state not in states:
                raise Forbidden(f"Listing {state.value} tables needs a higher role; ask an admin.")
            states = {state}
            include_deprecated = include_deprecated or state is TableState.DEPRECATED
        if not include_deprecated:
            states.discard(TableState.DEPRECATED)
        if not 1 <= first <= MAX_PAGE:
            raise InvalidInput(f"`first` must be between 1 and {MAX_PAGE}.")
        after_name = decode_cursor(after) if after else None
        records, total = await self._deps.uow.transaction(lambda session: table_listing(
            session, search=search, states=states, after=after_name, limit=first + 1))
        views = [v for r in records[:first]
                 if (v := table_view(principal.role, r, include_deprecated=include_deprecated))]
        return TablePage(
            tables=tuple(views),
            total=total,
            end_cursor=encode_cursor(records[:first][-1].name) if records[:first] else None,
            has_next_page=len(records) > first,
        )

    async def get_table(self, principal: Principal, name: str, *, include_deprecated: bool = True,
                        with_history: bool = True) -> TableView:
        require(principal, Capability.READ_CATALOG)
        record, history = await self._deps.uow.transaction(
            lambda session: table_with_history(session, name, with_history=with_history))
        view = table_view(principal.role, record, include_deprecated=include_deprecated,
                          history=history) if record else None
        if view is None:
            # The same words whether it is missing or merely invisible to this caller.
            raise TableNotFound(f"No table named {name!r}; `tables(search:)` lists what you can query.")
        return view

    async def register_table(self, principal: Principal, name: str, physical_name: str,
                             description: str | None = None) -> TableView:
        require(principal, Capability.REGISTER_TABLE)
        logical = validate_table_name(name)
        backend = self._deps.warehouse.backend
        # Every check runs on the name as the warehouse reads it (gateway.warehouse.naming).
        try:
            parsed = parse_physical_name(physical_name, backend)
        except PhysicalNameError as exc:
            raise InvalidInput(f"{exc}.") from None
        problem = physical_name_problem(parsed)
        if problem:
            raise InvalidInput(f"That table cannot be registered: {problem}. Only external tables can.")
        physical = parsed.text
        async with self._deps.uow() as uow:  # before introspecting: one table, one logical name
            await _check_unregistered(uow, parsed.key, physical, backend)
        introspected = await self._deps.warehouse.introspect(physical)
        now = self._deps.clock()
        statistics = await measure_statistics(self._deps.warehouse, physical, introspected.columns,
                                              introspected.row_count, now)
        version = VersionRecord(
            table=logical, version=1, state=TableState.READ_ONLY, physical_name=physical,
            columns=introspected.columns, row_count=introspected.row_count, owner=principal.email,
            supersedes=None, schema_version="1.0", created_at=now, updated_at=now,
            deprecated_at=None, foreign_keys=introspected.foreign_keys, statistics=statistics,
        )
        async with self._deps.uow() as uow:
            if await uow.tables.get(logical) is not None:
                raise Conflict(f"A table named {logical!r} is already registered.")
            await _check_unregistered(uow, parsed.key, physical, backend)
            await uow.tables.create(logical, description, now)
            await uow.tables.add_version(version)
            await uow.tables.record_state_change(StateChange(
                table=logical, version=1, from_state=None, to_state=TableState.READ_ONLY,
                transition="REGISTER", actor=principal.email, reason=None, at=now))
            await audit(uow, principal, "registerTable", "table", logical, now, before=None,
                        after={"version": 1, "state": "READ_ONLY", "physicalName": physical,
                               "columns": len(introspected.columns), "rowCount": introspected.row_count,
                               "statistics": audited(statistics)})
            await uow.system.bump_epoch()
            await uow.commit()
        return await self.get_table(principal, logical)

    async def snapshot(self, *, max_age: float | None = None) -> CatalogSnapshot:
        """The planner's view of the whole catalog, rebuilt only when the epoch moved.

        The epoch is read at most every ``epoch_poll_seconds`` (``max_age`` overrides it; 0
        reads it now): this process invalidates at once on its own commits, and other
        workers' changes are seen within the poll interval.
        """
        window = self._epoch_poll_seconds if max_age is None else max_age
        current = self._snapshot
        if current is not None and time.monotonic() - self._epoch_checked_at < window:
            return current
        if current is not None and await self._read_epoch() == current.epoch:
            return current
        async with self._deps.uow() as uow:
            return await self.snapshot_in(uow)

    async def _epoch_now(self) -> int:
        checked_at, invalidations = time.monotonic(), self._invalidations
        epoch = await self._deps.uow.transaction(read_epoch)
        self._checked(checked_at, invalidations)
        return epoch

    def _checked(self, checked_at: float, invalidations: int) -> None:
        if invalidations == self._invalidations:  # no local commit raced this read
            self._epoch_checked_at = checked_at

    async def snapshot_in(self, uow: UnitOfWork) -> CatalogSnapshot:
        """The snapshot as of the epoch read now, in the caller's unit of work.

        For a caller that reads other rows in the same transaction (execution loads its preview
        here too): one transaction instead of two, and the epoch is consistent with those rows.
        """
        checked_at, invalidations = time.monotonic(), self._invalidations
        epoch = await uow.system.epoch()
        self._checked(checked_at, invalidations)
        current = self._snapshot
        if current is not None and current.epoch == epoch:
            return current
        async with self._snapshot_lock:
            if self._snapshot is not None and self._snapshot.epoch == epoch:
                return self._snapshot
            versions = await uow.tables.all_versions()
            joins = await uow.joins.active()
            self._snapshot = build_snapshot(versions, epoch, tuple(planner_join(j) for j in joins))
            return self._snapshot

    async def snapshot_or_stale(self, *, max_age: float | None = None) -> tuple[CatalogSnapshot, bool]:
        """The snapshot, or — while the catalog database is down — the last one, marked stale.

        Planning keeps working from the last snapshot (stale-while-error); whatever must write
        to the catalog fails with CATALOG_UNAVAILABLE until it is back, with no restart.
        """
        try:
            return await self.snapshot(max_age=max_age), False
        except CatalogUnavailable:
            if self._snapshot is None:
                raise
            return self._snapshot, True


def build_snapshot(versions: list[VersionRecord], epoch: int,
                   joins: tuple[AcceptedJoin, ...] = ()) -> CatalogSnapshot:
    return CatalogSnapshot.of([planner_version(v) for v in versions], joins=joins, epoch=epoch)


def planner_version(v: VersionRecord) -> PlannerVersion:
    """A version as the planner sees it, with the distinct counts measured of its columns."""
    distinct = dict(v.statistics.distinct) if v.statistics else {}
    return PlannerVersion(
        table=v.table, version=v.version, state=v.state.value, physical_name=v.physical_name,
        columns=tuple(Column(c.name, c.type, c.nullable, c.primary_key, distinct.get(c.name)) for c in v.columns),
        row_count=v.row_count, stats=v.statistics.method if v.statistics else None,
    )


async def _check_unregistered(uow: UnitOfWork, key: str, physical: str, backend: str) -> None:
    taken = next((v for v in await uow.tables.all_versions() if _same_table(v.physical_name, key, backend)), None)
    if taken is not None:
        raise Conflict(f"{physical!r} is already registered, as {taken.table} v{taken.version}; "
                       "one warehouse table has one logical name.")


def _same_table(stored: str, key: str, backend: str) -> bool:
    try:
        return parse_physical_name(stored, backend).key == key
    except PhysicalNameError:  # stored before names were parsed: compare as text
        return stored.strip().lower() == key.lower()
