"""Repository of logical tables, their versions, state history and promotions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from gateway.domain import TableState
from gateway.records import (
    ColumnInfo,
    ColumnStatistics,
    ForeignKeyInfo,
    PromotionRecord,
    StateChange,
    TableRecord,
    VersionRecord,
)
from gateway.store.models import (
    LogicalTableRow,
    PromotionRow,
    StateHistoryRow,
    TableVersionRow,
)


def _version_record(table: str, row: Any) -> VersionRecord:
    """A version from its ORM object or its Core row (the same attribute names)."""
    return VersionRecord(
        table=table,
        version=row.version,
        state=TableState(row.state),
        physical_name=row.physical_name,
        columns=tuple(ColumnInfo.from_json(c) for c in row.columns or ()),
        row_count=row.row_count,
        owner=row.owner,
        supersedes=row.supersedes,
        schema_version=row.schema_version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        deprecated_at=row.deprecated_at,
        foreign_keys=tuple(
            ForeignKeyInfo(tuple(fk["columns"]), fk["referred_table"], tuple(fk["referred_columns"]))
            for fk in row.foreign_keys or ()
        ),
        statistics=ColumnStatistics.from_json(row.column_stats),
    )


def _foreign_keys_json(foreign_keys: Sequence[ForeignKeyInfo]) -> list[dict[str, object]]:
    return [{"columns": list(fk.columns), "referred_table": fk.referred_table,
             "referred_columns": list(fk.referred_columns)} for fk in foreign_keys]


# Reads written once, against a sync session: the request path runs them in one
# UnitOfWorkFactory.transaction, a unit of work through ``run_sync``. They are Core statements
# built once (the ORM's loading machinery cost more than the queries): a page of tables, then
# the versions of those tables, and records are built from the rows.

_TABLES: Table = LogicalTableRow.__table__  # type: ignore[assignment]
_VERSIONS: Table = TableVersionRow.__table__  # type: ignore[assignment]
_HAS_VISIBLE_VERSION = exists().where(_VERSIONS.c.table_id == _TABLES.c.id,
                                      _VERSIONS.c.state.in_(bindparam("states", expanding=True)))
_NAME_LIKE = _TABLES.c.name.like(bindparam("pattern"), escape="/")
_TABLE_COLUMNS = (_TABLES.c.id, _TABLES.c.name, _TABLES.c.description, _TABLES.c.created_at)
_PAGES = {(search, after): select(*_TABLE_COLUMNS).where(
              _HAS_VISIBLE_VERSION, *([_NAME_LIKE] if search else []),
              *([_TABLES.c.name > bindparam("after")] if after else []))
          .order_by(_TABLES.c.name).limit(bindparam("limit"))
          for search in (False, True) for after in (False, True)}
_COUNTS = {search: select(func.count()).select_from(_TABLES).where(
               _HAS_VISIBLE_VERSION, *([_NAME_LIKE] if search else []))
           for search in (False, True)}
_BY_NAME = select(*_TABLE_COLUMNS).where(_TABLES.c.name == bindparam("name"))
_VERSIONS_OF = (select(_VERSIONS).where(_VERSIONS.c.table_id.in_(bindparam("ids", expanding=True)))
                .order_by(_VERSIONS.c.table_id, _VERSIONS.c.version))


def _like_pattern(search: str) -> str:
    escaped = search.lower().replace("/", "//").replace("%", "/%").replace("_", "/_")
    return f"%{escaped}%"


def _listing_parameters(search: str | None, states: Iterable[TableState]) -> dict[str, Any]:
    parameters: dict[str, Any] = {"states": [s.value for s in states]}
    if search:
        parameters["pattern"] = _like_pattern(search)
    return parameters


def _records(session: Session, tables: Sequence[Any]) -> list[TableRecord]:
    """Records of the given table rows, with all their versions (one more statement)."""
    if not tables:
        return []
    names = {t.id: t.name for t in tables}
    versions: dict[int, list[VersionRecord]] = {t.id: [] for t in tables}
    for v in session.connection().execute(_VERSIONS_OF, {"ids": list(names)}):
        versions[v.table_id].append(_version_record(names[v.table_id], v))
    return [TableRecord(name=t.name, description=t.description, created_at=t.created_at,
                        versions=tuple(versions[t.id])) for t in tables]


def table_page(session: Session, *, search: str | None, states: Iterable[TableState], after: str | None,
               limit: int) -> list[TableRecord]:
    """Tables with a version in one of ``states``, by name, after ``after``."""
    parameters = {**_listing_parameters(search, states), "limit": limit}
    if after is not None:
        parameters["after"] = after
    statement = _PAGES[(bool(search), after is not None)]
    return _records(session, session.connection().execute(statement, parameters).all())


def table_count(session: Session, *, search: str | None, states: Iterable[TableState]) -> int:
    statement = _COUNTS[bool(search)]
    return int(session.connection().execute(statement, _listing_parameters(search, states)).scalar_one())


def table_listing(session: Session, *, search: str | None, states: Iterable[TableState], after: str | None,
                  limit: int) -> tuple[list[TableRecord], int]:
    """A page of :func:`table_page` and the :func:`table_count` of all pages, in one transaction."""
    states = tuple(states)  # read twice
    return (table_page(session, search=search, states=states, after=after, limit=limit),
            table_count(session, search=search, states=states))


def table_with_history(session: Session, name: str, *, with_history: bool) -> tuple[TableRecord | None,
                                                                                     tuple[StateChange, ...]]:
    record = table_record(session, name)
    return record, tuple(table_history(session, name)) if record and with_history else ()


def table_record(session: Session, name: str) -> TableRecord | None:
    found = session.connection().execute(_BY_NAME, {"name": name.lower()}).all()
    return _records(session, found)[0] if found else None


def table_history(session: Session, name: str) -> list[StateChange]:
    table_row = _table_row(session, name)
    if table_row is None:
        return []
    rows = session.scalars(select(StateHistoryRow).where(StateHistoryRow.table_id == table_row.id)
                           .order_by(StateHistoryRow.id)).all()
    return [
        StateChange(table=table_row.name, version=r.version,
                    from_state=TableState(r.from_state) if r.from_state else None,
                    to_state=TableState(r.to_state), transition=r.transition, actor=r.actor,
                    reason=r.reason, at=r.at)
        for r in rows
    ]


def _table_row(session: Session, name: str) -> LogicalTableRow | None:
    return session.scalar(select(LogicalTableRow).where(LogicalTableRow.name == name.lower())
                          .execution_options(populate_existing=True))


class TablesRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, name: str) -> TableRecord | None:
        return await self._session.run_sync(table_record, name)

    async def all_versions(self) -> list[VersionRecord]:
        result = await self._session.execute(
            select(LogicalTableRow.name, TableVersionRow).join(TableVersionRow.table)
        )
        return [_version_record(name, row) for name, row in result.all()]

    async def physical_name_taken(self, physical_name: str) -> bool:
        query = select(TableVersionRow.id).where(
            func.lower(TableVersionRow.physical_name) == physical_name.lower()
        )
        return (await self._session.scalar(query)) is not None

    async def create(self, name: str, description: str | None, at: datetime) -> None:
        self._session.add(LogicalTableRow(name=name, description=description, created_at=at))
        await self._session.flush()

    async def add_version(self, version: VersionRecord) -> None:
        table = await self._require_row(version.table)
        self._session.add(
            TableVersionRow(
                table_id=table.id,
                version=version.version,
                state=version.state.value,
                physical_name=version.physical_name,
                columns=[c.as_json() for c in version.columns],
                foreign_keys=_foreign_keys_json(version.foreign_keys),
                row_count=version.row_count,
                column_stats=version.statistics.as_json() if version.statistics else None,
                owner=version.owner,
                supersedes=version.supersedes,
                schema_version=version.schema_version,
                created_at=version.created_at,
                updated_at=version.updated_at,
                deprecated_at=version.deprecated_at,
            )
        )
        await self._session.flush()

    async def update_schema(self, table: str, version: int, columns: Sequence[ColumnInfo],
                            foreign_keys: Sequence[ForeignKeyInfo], row_count: int | None,
                            schema_version: str, at: datetime) -> None:
        row = await self._require_version_row(table, version)
        row.columns = [c.as_json() for c in columns]
        row.foreign_keys = _foreign_keys_json(foreign_keys)
        row.row_count = row_count
        row.schema_version = schema_version
        row.updated_at = at
        await self._session.flush()

    async def update_statistics(self, table: str, version: int, row_count: int,
                                statistics: ColumnStatistics | None, at: datetime) -> None:
        """A version's measured figures, taken again (refreshSchema): its row count and column
        statistics; None keeps the statistics it had (the warehouse could not measure them)."""
        row = await self._require_version_row(table, version)
        row.row_count = row_count
        if statistics is not None:
            row.column_stats = statistics.as_json()
        row.updated_at = at
        await self._session.flush()

    async def compare_and_set_state(self, table: str, version: int, expected: TableState,
                                    new: TableState, at: datetime) -> bool:
        """Move one version from ``expected`` to ``new``; False when someone moved it first.

        The guarded UPDATE is what makes concurrent lifecycle operations safe: together with
        the partial unique index, the loser of a race changes nothing and learns it.
        """
        table_row = await self._require_row(table)
        values: dict[str, object] = {"state": new.value, "updated_at": at}
        if new is TableState.DEPRECATED:
            values["deprecated_at"] = at
        elif expected is TableState.DEPRECATED:
            values["deprecated_at"] = None
        result = await self._session.execute(
            update(TableVersionRow)
            .where(TableVersionRow.table_id == table_row.id, TableVersionRow.version == version,
                   TableVersionRow.state == expected.value)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        await self._session.flush()
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def record_state_change(self, change: StateChange) -> None:
        table_row = await self._require_row(change.table)
        self._session.add(
            StateHistoryRow(
                table_id=table_row.id, version=change.version,
                from_state=change.from_state.value if change.from_state else None,
                to_state=change.to_state.value, transition=change.transition,
                actor=change.actor, reason=change.reason, at=change.at,
            )
        )
        await self._session.flush()

    async def history(self, table: str) -> list[StateChange]:
        return await self._session.run_sync(table_history, table)

    async def add_promotion(self, table: str, promoted: int, previous: int | None, actor: str,
                            at: datetime) -> None:
        table_row = await self._require_row(table)
        self._session.add(PromotionRow(table_id=table_row.id, promoted_version=promoted,
                                       previous_active_version=previous, actor=actor, at=at))
        await self._session.flush()

    async def last_promotion(self, table: str) -> PromotionRecord | None:
        table_row = await self._require_row(table)
        row = await self._session.scalar(
            select(PromotionRow).where(PromotionRow.table_id == table_row.id)
            .order_by(PromotionRow.id.desc()).limit(1)
        )
        if row is None:
            return None
        return PromotionRecord(id=row.id, table=table, promoted_version=row.promoted_version,
                               previous_active_version=row.previous_active_version, actor=row.actor,
                               at=row.at, rolled_back_at=row.rolled_back_at)

    async def mark_rolled_back(self, promotion_id: int, at: datetime) -> bool:
        result = await self._session.execute(
            update(PromotionRow)
            .where(PromotionRow.id == promotion_id, PromotionRow.rolled_back_at.is_(None))
            .values(rolled_back_at=at)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def _row(self, name: str) -> LogicalTableRow | None:
        return await self._session.run_sync(_table_row, name)

    async def _require_row(self, name: str) -> LogicalTableRow:
        row = await self._row(name)
        if row is None:
            raise LookupError(name)
        return row

    async def _require_version_row(self, table: str, version: int) -> TableVersionRow:
        table_row = await self._require_row(table)
        row = await self._session.scalar(
            select(TableVersionRow).where(TableVersionRow.table_id == table_row.id,
                                          TableVersionRow.version == version)
        )
        if row is None:
            raise LookupError(f"{table} v{version}")
        return row
