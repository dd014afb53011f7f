"""What a caller may see of the catalog: the views the services hand to the GraphQL layer.

SHADOW versions (and so their physical names) are cut out here for roles that may not see
them; DEPRECATED versions are left out unless asked for. Nothing downstream re-filters.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.domain import STATE_PROPERTIES, Role, TableState, can_see_state, resolved_version_number
from gateway.records import StateChange, TableRecord, VersionRecord


@dataclass(frozen=True, slots=True)
class TableView:
    name: str
    description: str | None
    state: TableState | None  # the state of the version an unpinned query resolves to
    active_version: int | None
    versions: tuple[VersionRecord, ...]
    history: tuple[StateChange, ...] = ()


def resolved_version(table: TableRecord) -> VersionRecord | None:
    """The version an unpinned query reaches: ACTIVE, else READ_ONLY."""
    number = resolved_version_number((v.state.value, v.version) for v in table.versions)
    return table.version(number) if number is not None else None


def visible_versions(role: Role, table: TableRecord, include_deprecated: bool) -> tuple[VersionRecord, ...]:
    return tuple(
        v for v in table.versions
        if can_see_state(role, v.state)
        and (include_deprecated or not STATE_PROPERTIES[v.state].hidden_by_default)
    )


def table_view(role: Role, table: TableRecord, *, include_deprecated: bool = False,
               history: tuple[StateChange, ...] = ()) -> TableView | None:
    """The caller's view of a table, or None when the caller may not know it exists."""
    if not any(can_see_state(role, v.state) for v in table.versions):
        return None
    versions = visible_versions(role, table, include_deprecated)
    target = resolved_version(table)
    if target is None and versions:
        target = max(versions, key=lambda v: v.version)
    active = table.in_state(TableState.ACTIVE)
    return TableView(
        name=table.name,
        description=table.description,
        state=target.state if target else None,
        active_version=active[0].version if active else None,
        versions=versions,
        history=tuple(h for h in history if can_see_state(role, h.to_state)
                      and (h.from_state is None or can_see_state(role, h.from_state))),
    )
