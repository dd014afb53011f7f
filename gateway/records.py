"""Plain domain records that travel between the store, the services and the GraphQL layer.

The store returns these instead of ORM objects; nothing here knows about SQLAlchemy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gateway.domain import Role, SystemMode, TableState


@dataclass(frozen=True, slots=True)
class ColumnInfo:
    name: str
    type: str
    nullable: bool = True
    primary_key: bool = False
    default: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "nullable": self.nullable,
                "primary_key": self.primary_key, "default": self.default}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ColumnInfo:
        return cls(name=data["name"], type=data["type"], nullable=bool(data.get("nullable", True)),
                   primary_key=bool(data.get("primary_key", False)), default=data.get("default"))


@dataclass(frozen=True, slots=True)
class ForeignKeyInfo:
    columns: tuple[str, ...]
    referred_table: str  # physical name
    referred_columns: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ColumnStatistics:
    """What was measured of a version's columns, and how: the planner's GROUP BY estimates use the
    distinct counts (``gateway.warehouse.column_stats.measure_distinct`` says the rule)."""

    distinct: tuple[tuple[str, int], ...]  # (column name, distinct non-NULL values); a tuple keeps records hashable
    method: str  # "exact" (COUNT(DISTINCT) over the table) or "sampled" (estimated from a sample)
    rows_read: int  # rows the measurement read: the table, or the sample
    measured_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {"method": self.method, "rows_read": self.rows_read, "measured_at": self.measured_at.isoformat(),
                "distinct": dict(self.distinct)}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> ColumnStatistics | None:
        if not data:
            return None
        return cls(distinct=tuple((str(k), int(v)) for k, v in data.get("distinct", {}).items()),
                   method=str(data["method"]), rows_read=int(data.get("rows_read", 0)),
                   measured_at=datetime.fromisoformat(data["measured_at"]))


@dataclass(frozen=True, slots=True)
class VersionRecord:
    table: str
    version: int
    state: TableState
    physical_name: str
    columns: tuple[ColumnInfo, ...]
    row_count: int | None
    owner: str | None
    supersedes: int | None
    schema_version: str
    created_at: datetime
    updated_at: datetime
    deprecated_at: datetime | None
    foreign_keys: tuple[ForeignKeyInfo, ...] = ()
    statistics: ColumnStatistics | None = None  # measured when registered or refreshed


@dataclass(frozen=True, slots=True)
class TableRecord:
    name: str
    description: str | None
    created_at: datetime
    versions: tuple[VersionRecord, ...]

    def version(self, number: int) -> VersionRecord | None:
        return next((v for v in self.versions if v.version == number), None)

    def in_state(self, state: TableState) -> tuple[VersionRecord, ...]:
        return tuple(v for v in self.versions if v.state is state)


@dataclass(frozen=True, slots=True)
class StateChange:
    table: str
    version: int
    from_state: TableState | None
    to_state: TableState
    transition: str
    actor: str
    reason: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class PromotionRecord:
    id: int
    table: str
    promoted_version: int
    previous_active_version: int | None
    actor: str
    at: datetime
    rolled_back_at: datetime | None


@dataclass(frozen=True, slots=True)
class UserRecord:
    email: str
    role: Role
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class AuditEvent:
    id: int
    at: datetime
    actor: str
    role: str
    action: str
    entity_type: str
    entity_id: str
    before: Any
    after: Any
    request_id: str | None


@dataclass(frozen=True, slots=True)
class NewAuditEvent:
    actor: str
    role: str
    action: str
    entity_type: str
    entity_id: str
    before: Any = None
    after: Any = None
    request_id: str | None = None


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: authenticated, with the role the gateway decided for them."""

    email: str
    role: Role
    subject: str = ""
    request_id: str | None = None
    claims: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SystemStatus:
    mode: SystemMode
    catalog_epoch: int
