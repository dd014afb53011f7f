"""The rules of the house, as data: states, transitions, roles, capabilities, modes.

Every other module asks this one; none of them spells a rule again. The tables below are
what the table-driven tests in ``tests/test_domain.py`` walk pair by pair.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType


class TableState(enum.Enum):
    READ_ONLY = "READ_ONLY"
    SHADOW = "SHADOW"
    ACTIVE = "ACTIVE"
    DEPRECATED = "DEPRECATED"


class Role(enum.Enum):
    VIEWER = "VIEWER"
    ANALYST = "ANALYST"
    ENGINEER = "ENGINEER"
    ADMIN = "ADMIN"

    @property
    def rank(self) -> int:
        return _ROLE_ORDER.index(self)

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank


_ROLE_ORDER = (Role.VIEWER, Role.ANALYST, Role.ENGINEER, Role.ADMIN)


class SystemMode(enum.Enum):
    READ_ONLY = "READ_ONLY"
    INGESTION_READY = "INGESTION_READY"


DEFAULT_MODE = SystemMode.READ_ONLY


class JoinState(enum.Enum):
    """An accepted join version: ACTIVE feeds the planner; a newer version or an admin deprecates it."""

    ACTIVE = "ACTIVE"
    DEPRECATED = "DEPRECATED"


class RiskLevel(enum.Enum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"


# --- states --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StateProperties:
    queryable: bool  # the planner may resolve an unpinned reference to it
    queryable_when_pinned: bool  # the planner may reach it through an explicit pin
    writable: bool  # the ingestion writer may write into it
    visible_to: Role  # the lowest role that may see it exists at all
    auto_joined: bool  # structured queries may route a join path through it
    hidden_by_default: bool  # lists leave it out unless asked to include it


STATE_PROPERTIES: Mapping[TableState, StateProperties] = MappingProxyType(
    {
        TableState.READ_ONLY: StateProperties(
            queryable=True, queryable_when_pinned=True, writable=False,
            visible_to=Role.VIEWER, auto_joined=True, hidden_by_default=False,
        ),
        TableState.SHADOW: StateProperties(
            queryable=False, queryable_when_pinned=True, writable=True,
            visible_to=Role.ENGINEER, auto_joined=False, hidden_by_default=False,
        ),
        TableState.ACTIVE: StateProperties(
            queryable=True, queryable_when_pinned=True, writable=False,
            visible_to=Role.VIEWER, auto_joined=True, hidden_by_default=False,
        ),
        TableState.DEPRECATED: StateProperties(
            queryable=False, queryable_when_pinned=True, writable=False,
            visible_to=Role.VIEWER, auto_joined=False, hidden_by_default=True,
        ),
    }
)

# Unpinned resolution order: the first state present wins.
RESOLUTION_ORDER: tuple[TableState, ...] = (TableState.ACTIVE, TableState.READ_ONLY)


def resolved_version_number(versions: Iterable[tuple[str, int]]) -> int | None:
    """The version an unpinned query reaches, from (state value, version) pairs: the newest in
    the first state of RESOLUTION_ORDER that has any, or None."""
    pairs = list(versions)
    for state in RESOLUTION_ORDER:
        found = [number for value, number in pairs if value == state.value]
        if found:
            return max(found)
    return None


def can_see_state(role: Role, state: TableState) -> bool:
    return role.at_least(STATE_PROPERTIES[state].visible_to)


# --- transitions ---------------------------------------------------------------------------


class Transition(enum.Enum):
    PROMOTE = "PROMOTE"
    DEPRECATE = "DEPRECATE"
    RESTORE = "RESTORE"
    ROLLBACK = "ROLLBACK"


# (transition, from-state) -> to-state. Absent pairs are invalid. READ_ONLY never changes.
TRANSITIONS: Mapping[tuple[Transition, TableState], TableState] = MappingProxyType(
    {
        (Transition.PROMOTE, TableState.SHADOW): TableState.ACTIVE,
        (Transition.DEPRECATE, TableState.ACTIVE): TableState.DEPRECATED,
        (Transition.RESTORE, TableState.DEPRECATED): TableState.ACTIVE,
        # A rollback walks a promotion back: the promoted version returns to staging.
        (Transition.ROLLBACK, TableState.ACTIVE): TableState.SHADOW,
    }
)

# What happens to the version that was ACTIVE when another one becomes ACTIVE.
DISPLACED_ACTIVE_STATE = TableState.DEPRECATED

ROLLBACK_WINDOW_SECONDS = 24 * 3600


def transition_target(transition: Transition, current: TableState) -> TableState | None:
    return TRANSITIONS.get((transition, current))


# --- roles and capabilities ----------------------------------------------------------------


class Capability(enum.Enum):
    READ_CATALOG = "READ_CATALOG"
    QUERY = "QUERY"
    CORRECT_QUERY = "CORRECT_QUERY"
    VIEW_SHADOW = "VIEW_SHADOW"
    REFRESH_SCHEMA = "REFRESH_SCHEMA"
    CHECK_COMPATIBILITY = "CHECK_COMPATIBILITY"
    CREATE_CONTRACT = "CREATE_CONTRACT"
    INGEST = "INGEST"
    VIEW_INGESTION = "VIEW_INGESTION"
    VIEW_JOIN_CANDIDATES = "VIEW_JOIN_CANDIDATES"
    REGISTER_TABLE = "REGISTER_TABLE"
    PROMOTE = "PROMOTE"
    DEPRECATE = "DEPRECATE"
    REPLAY = "REPLAY"
    MANAGE_JOINS = "MANAGE_JOINS"
    RESOLVE_DRIFT = "RESOLVE_DRIFT"
    MANAGE_ROLES = "MANAGE_ROLES"
    MANAGE_MODE = "MANAGE_MODE"
    VIEW_AUDIT = "VIEW_AUDIT"
    VIEW_ANY_PREVIEW = "VIEW_ANY_PREVIEW"
    VIEW_DASHBOARD = "VIEW_DASHBOARD"
    SCRAPE_METRICS = "SCRAPE_METRICS"
    OVERRIDE_GUARDRAILS = "OVERRIDE_GUARDRAILS"
    SKIP_PREVIEW = "SKIP_PREVIEW"


# The lowest role holding each capability; roles are ordered, so a higher role holds all
# a lower one does. Hard boundaries live here and nowhere else.
CAPABILITY_MIN_ROLE: Mapping[Capability, Role] = MappingProxyType(
    {
        Capability.READ_CATALOG: Role.VIEWER,
        Capability.QUERY: Role.VIEWER,
        Capability.CORRECT_QUERY: Role.ANALYST,
        Capability.VIEW_SHADOW: Role.ENGINEER,
        Capability.REFRESH_SCHEMA: Role.ENGINEER,
        Capability.CHECK_COMPATIBILITY: Role.ENGINEER,
        Capability.CREATE_CONTRACT: Role.ENGINEER,
        Capability.INGEST: Role.ENGINEER,
        Capability.VIEW_INGESTION: Role.ENGINEER,
        Capability.VIEW_JOIN_CANDIDATES: Role.ENGINEER,
        Capability.REGISTER_TABLE: Role.ADMIN,
        Capability.PROMOTE: Role.ADMIN,
        Capability.DEPRECATE: Role.ADMIN,
        Capability.REPLAY: Role.ADMIN,
        Capability.MANAGE_JOINS: Role.ADMIN,
        Capability.RESOLVE_DRIFT: Role.ADMIN,
        Capability.MANAGE_ROLES: Role.ADMIN,
        Capability.MANAGE_MODE: Role.ADMIN,
        Capability.VIEW_AUDIT: Role.ADMIN,
        Capability.VIEW_ANY_PREVIEW: Role.ADMIN,
        Capability.VIEW_DASHBOARD: Role.ADMIN,
        # A Prometheus service account reads counters labelled by contract and join ids.
        Capability.SCRAPE_METRICS: Role.ENGINEER,
        # Running a query past a guardrail that asks for an explicit override (a cartesian
        # product, a fan trap, …): a judgement call for someone who reads query plans.
        Capability.OVERRIDE_GUARDRAILS: Role.ANALYST,
        # Planning and running in one call, with no human seeing the preview: for automation
        # accounts, which an admin gives the ENGINEER role on purpose.
        Capability.SKIP_PREVIEW: Role.ENGINEER,
    }
)

# Capabilities that only exist while the system accepts ingestion.
CAPABILITY_MODE: Mapping[Capability, SystemMode] = MappingProxyType(
    {
        Capability.CREATE_CONTRACT: SystemMode.INGESTION_READY,
        Capability.INGEST: SystemMode.INGESTION_READY,
        Capability.REPLAY: SystemMode.INGESTION_READY,
    }
)

TRANSITION_CAPABILITY: Mapping[Transition, Capability] = MappingProxyType(
    {
        Transition.PROMOTE: Capability.PROMOTE,
        Transition.DEPRECATE: Capability.DEPRECATE,
        Transition.RESTORE: Capability.DEPRECATE,
        Transition.ROLLBACK: Capability.PROMOTE,
    }
)


def has_capability(role: Role, capability: Capability) -> bool:
    return role.at_least(CAPABILITY_MIN_ROLE[capability])


def capabilities_of(role: Role) -> tuple[Capability, ...]:
    return tuple(c for c in Capability if has_capability(role, c))


def visible_states(role: Role) -> frozenset[TableState]:
    return frozenset(s for s in TableState if can_see_state(role, s))
