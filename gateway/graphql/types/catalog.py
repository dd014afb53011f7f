"""GraphQL types of the catalog, converted from the services' views."""

from __future__ import annotations

from datetime import datetime

import strawberry

from gateway.graphql.enums import TableState
from gateway.records import ColumnInfo, StateChange, VersionRecord
from gateway.services.base import aware
from gateway.services.lifecycle import LifecycleOutcome
from gateway.services.visibility import TableView


@strawberry.type
class Column:
    name: str
    type: str
    nullable: bool
    primary_key: bool

    @classmethod
    def of(cls, c: ColumnInfo) -> Column:
        return cls(name=c.name, type=c.type, nullable=c.nullable, primary_key=c.primary_key)


@strawberry.type
class TableVersion:
    version: int
    state: TableState
    physical_name: str
    columns: list[Column]
    row_count: int | None
    created_at: datetime
    updated_at: datetime
    supersedes: int | None
    deprecated_at: datetime | None
    owner: str | None
    schema_version: str

    @classmethod
    def of(cls, v: VersionRecord) -> TableVersion:
        return cls(
            version=v.version, state=v.state, physical_name=v.physical_name,
            columns=[Column.of(c) for c in v.columns], row_count=v.row_count,
            created_at=aware(v.created_at), updated_at=aware(v.updated_at), supersedes=v.supersedes,
            deprecated_at=aware(v.deprecated_at) if v.deprecated_at else None, owner=v.owner,
            schema_version=v.schema_version,
        )


@strawberry.type
class StateHistoryEntry:
    version: int
    from_state: TableState | None
    to_state: TableState
    transition: str
    actor: str
    reason: str | None
    at: datetime

    @classmethod
    def of(cls, h: StateChange) -> StateHistoryEntry:
        return cls(version=h.version, from_state=h.from_state, to_state=h.to_state,
                   transition=h.transition, actor=h.actor, reason=h.reason, at=aware(h.at))


@strawberry.type
class Table:
    name: str
    description: str | None
    state: TableState | None = strawberry.field(
        description="The state of the version an unpinned query resolves to (ACTIVE, else READ_ONLY).")
    active_version: int | None
    versions: list[TableVersion]
    history: list[StateHistoryEntry]

    @classmethod
    def of(cls, view: TableView) -> Table:
        return cls(name=view.name, description=view.description, state=view.state,
                   active_version=view.active_version,
                   versions=[TableVersion.of(v) for v in view.versions],
                   history=[StateHistoryEntry.of(h) for h in view.history])


@strawberry.type
class TableEdge:
    cursor: str
    node: Table


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class TableConnection:
    edges: list[TableEdge]
    nodes: list[Table]
    page_info: PageInfo
    total_count: int


@strawberry.type
class VersionChange:
    version: int
    transition: str
    from_state: TableState
    to_state: TableState


@strawberry.type
class LifecycleResult:
    table: Table
    dry_run: bool
    changes: list[VersionChange]
    message: str
    warnings: list[str]

    @classmethod
    def of(cls, outcome: LifecycleOutcome) -> LifecycleResult:
        return cls(
            table=Table.of(outcome.table), dry_run=outcome.dry_run,
            changes=[VersionChange(version=s.version, transition=s.transition.value,
                                   from_state=s.from_state, to_state=s.to_state) for s in outcome.steps],
            message=outcome.message, warnings=list(outcome.warnings),
        )


@strawberry.input
class RegisterTableInput:
    name: str
    physical_name: str
    description: str | None = None
