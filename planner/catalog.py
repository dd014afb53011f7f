"""How the planner sees the catalog: a small protocol and frozen dataclasses.

The gateway builds a :class:`CatalogSnapshot` from its store once per catalog epoch and
hands it to :func:`planner.plan`. The planner never reaches past this module for catalog
facts, which keeps it pure and testable with hand-built catalogs.

States are plain strings here (``"ACTIVE"``, ``"READ_ONLY"``, ``"SHADOW"``,
``"DEPRECATED"``) so the planner does not import the gateway; the gateway's
``domain.TableState`` values are exactly these strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

ACTIVE = "ACTIVE"
READ_ONLY = "READ_ONLY"
SHADOW = "SHADOW"
DEPRECATED = "DEPRECATED"

# How a version's column statistics were taken (the preview says which an estimate rests on).
EXACT_STATS = "exact"
SAMPLED_STATS = "sampled"


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: str  # a SQL type as the warehouse spells it, e.g. "INTEGER", "VARCHAR(20)"
    nullable: bool = True
    primary_key: bool = False
    # Distinct non-NULL values, where the catalog has measured them (GROUP BY estimates use it).
    distinct_count: int | None = None


@dataclass(frozen=True, slots=True)
class TableVersion:
    table: str  # logical name, lower case
    version: int  # 1, 2, ...
    state: str  # one of the four states above
    physical_name: str  # as the warehouse knows it, possibly schema-qualified ("spyne_shadow.orders_v2")
    columns: tuple[Column, ...] = ()
    row_count: int | None = None
    # How the columns' distinct counts were measured: EXACT_STATS or SAMPLED_STATS (None: not measured).
    stats: str | None = None


@dataclass(frozen=True, slots=True)
class AcceptedJoin:
    """A join an admin accepted (filled once the joins feature lands; empty before)."""

    id: str
    version: int
    left_table: str
    left_columns: tuple[str, ...]
    right_table: str
    right_columns: tuple[str, ...]
    join_type: str = "INNER"
    cardinality: str | None = None  # "ONE_TO_ONE" | "ONE_TO_MANY" | "MANY_TO_ONE" | "MANY_TO_MANY"
    fan_out: float | None = None


@dataclass(frozen=True, slots=True)
class LogicalTable:
    name: str
    versions: tuple[TableVersion, ...]

    def version(self, number: int) -> TableVersion | None:
        return next((v for v in self.versions if v.version == number), None)


class Catalog(Protocol):
    """What the planner needs to know about the catalog."""

    def table(self, name: str) -> LogicalTable | None: ...

    def names(self) -> tuple[str, ...]:
        """Every logical name, sorted; callers filter what a caller may see (see visible_tables)."""
        ...

    def accepted_joins(self) -> tuple[AcceptedJoin, ...]: ...


@dataclass(frozen=True)
class CatalogSnapshot:
    """An immutable catalog, keyed by lower-case logical name; the gateway's implementation."""

    tables: Mapping[str, LogicalTable]
    joins: tuple[AcceptedJoin, ...] = ()
    epoch: int = 0
    physical_names: frozenset[str] = field(default=frozenset())
    # Derived listings, computed once per snapshot (a snapshot never changes).
    _memo: dict[object, object] = field(default_factory=dict, compare=False, repr=False)

    def table(self, name: str) -> LogicalTable | None:
        return self.tables.get(name.lower())

    def names(self) -> tuple[str, ...]:
        found = self._memo.get("names")
        if found is None:
            found = self._memo["names"] = tuple(sorted(self.tables))
        return found  # type: ignore[return-value]

    def accepted_joins(self) -> tuple[AcceptedJoin, ...]:
        return self.joins

    @classmethod
    def of(cls, versions: list[TableVersion] | tuple[TableVersion, ...], joins: tuple[AcceptedJoin, ...] = (),
           epoch: int = 0) -> CatalogSnapshot:
        grouped: dict[str, list[TableVersion]] = {}
        for v in versions:
            grouped.setdefault(v.table.lower(), []).append(v)
        tables = {
            name: LogicalTable(name=name, versions=tuple(sorted(vs, key=lambda v: v.version)))
            for name, vs in grouped.items()
        }
        return cls(tables=tables, joins=joins, epoch=epoch,
                   physical_names=frozenset(v.physical_name.lower() for v in versions))


def visible_versions(table: LogicalTable, may_view_shadow: bool) -> tuple[TableVersion, ...]:
    """The versions a caller may know of: SHADOW ones only with ``may_view_shadow``."""
    return tuple(v for v in table.versions if v.state != SHADOW or may_view_shadow)


def resolved(versions: tuple[TableVersion, ...]) -> TableVersion | None:
    """What an unpinned reference reaches among ``versions``: the ACTIVE one, else the newest READ_ONLY."""
    for state in (ACTIVE, READ_ONLY):
        candidates = [v for v in versions if v.state == state]
        if candidates:
            return max(candidates, key=lambda v: v.version)
    return None


def visible_tables(catalog: Catalog, may_view_shadow: bool) -> tuple[tuple[LogicalTable, TableVersion], ...]:
    """Every table a caller may know of, by name, with the version it shows: the resolved one,
    else its newest visible one. Memoised per snapshot: an IDE asks at every keystroke."""
    memo = getattr(catalog, "_memo", None)
    key = ("visible", may_view_shadow)
    if memo is not None and key in memo:
        return memo[key]  # type: ignore[no-any-return]
    found: list[tuple[LogicalTable, TableVersion]] = []
    for name in catalog.names():
        table = catalog.table(name)
        versions = visible_versions(table, may_view_shadow) if table is not None else ()
        if table is not None and versions:
            found.append((table, resolved(versions) or max(versions, key=lambda v: v.version)))
    listing = tuple(found)
    if memo is not None:
        memo[key] = listing
    return listing


def visible_names(catalog: Catalog, may_view_shadow: bool) -> tuple[str, ...]:
    """The logical names of :func:`visible_tables`, memoised the same way."""
    memo = getattr(catalog, "_memo", None)
    key = ("visible names", may_view_shadow)
    if memo is not None and key in memo:
        return memo[key]  # type: ignore[no-any-return]
    names = tuple(table.name for table, _ in visible_tables(catalog, may_view_shadow))
    if memo is not None:
        memo[key] = names
    return names
