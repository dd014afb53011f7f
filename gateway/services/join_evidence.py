"""What join discovery works from: the catalog's tables, and joins analysts actually ran.

Also the conversion of accepted joins into what the planner sees (:func:`planner_join`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

from gateway.domain import RESOLUTION_ORDER
from gateway.joins_records import JoinRecord
from gateway.records import VersionRecord
from gateway.store.unit_of_work import UnitOfWorkFactory
from planner.catalog import AcceptedJoin, Column
from planner.join_discovery import DeclaredKey, DiscoveryTable, ObservedJoin
from planner.join_observed import observed_join

# How far back the query log is read for evidence: the newest executions only.
OBSERVED_EXECUTIONS = 5_000


class ObservedJoinsSource(Protocol):
    """Joins written in executed queries, with who ran them."""

    async def observed_joins(self, columns: Mapping[str, frozenset[str]]) -> list[ObservedJoin]: ...


class CatalogObservedJoins:
    """Reads the query log (``query_executions``); returns nothing while that table does not exist."""

    def __init__(self, uow: UnitOfWorkFactory, limit: int = OBSERVED_EXECUTIONS) -> None:
        self._uow = uow
        self._limit = limit

    async def observed_joins(self, columns: Mapping[str, frozenset[str]]) -> list[ObservedJoin]:
        async with self._uow() as uow:
            executions = await uow.joins.executed_joins(self._limit)
        found: list[ObservedJoin] = []
        for actor, joins in executions:
            for j in joins:
                left, right = str(j.get("left") or ""), str(j.get("right") or "")
                if left.lower() in columns and right.lower() in columns:
                    o = observed_join(left, right, j.get("condition"), actor, columns)
                    if o is not None:
                        found.append(o)
        return found


def resolvable(versions: Iterable[VersionRecord]) -> dict[str, VersionRecord]:
    """Per logical table, the version an unpinned query (and a join) reaches: ACTIVE, else READ_ONLY."""
    rank = {state: i for i, state in enumerate(RESOLUTION_ORDER)}
    best: dict[str, VersionRecord] = {}
    for v in versions:
        if v.state not in rank:
            continue
        current = best.get(v.table)
        if current is None or (rank[v.state], -v.version) < (rank[current.state], -current.version):
            best[v.table] = v
    return best


def discovery_tables(current: Mapping[str, VersionRecord]) -> list[DiscoveryTable]:
    """The tables as discovery sees them; foreign keys point at physical names, mapped back here."""
    logical_of = {v.physical_name.lower(): name for name, v in current.items()}
    for name, v in current.items():  # an unqualified reference also finds a schema-qualified table
        logical_of.setdefault(v.physical_name.lower().rpartition(".")[2], name)
    tables = []
    for name, v in current.items():
        keys = tuple(
            DeclaredKey(fk.columns, logical_of[fk.referred_table.lower()], fk.referred_columns)
            for fk in v.foreign_keys if fk.referred_table.lower() in logical_of)
        tables.append(DiscoveryTable(
            name, tuple(Column(c.name, c.type, c.nullable, c.primary_key) for c in v.columns), keys, v.row_count))
    return tables


def planner_join(record: JoinRecord) -> AcceptedJoin:
    stats = record.validation_stats
    return AcceptedJoin(
        id=record.id, version=record.version, left_table=record.left_table, left_columns=record.left_columns,
        right_table=record.right_table, right_columns=record.right_columns, join_type=record.join_type,
        cardinality=stats.cardinality if stats else None, fan_out=stats.fan_out_multiplier if stats else None)
