"""Every (state, transition) and (role, capability) pair, against tables written out by hand."""

from __future__ import annotations

import pytest

from gateway.domain import (
    CAPABILITY_MODE,
    DEFAULT_MODE,
    STATE_PROPERTIES,
    Capability,
    Role,
    SystemMode,
    TableState,
    Transition,
    can_see_state,
    has_capability,
    transition_target,
)

S, A, D, R = TableState.SHADOW, TableState.ACTIVE, TableState.DEPRECATED, TableState.READ_ONLY
EXPECTED_TRANSITIONS = {
    (Transition.PROMOTE, S): A,
    (Transition.DEPRECATE, A): D,
    (Transition.RESTORE, D): A,
    (Transition.ROLLBACK, A): S,
}


@pytest.mark.parametrize("transition", list(Transition))
@pytest.mark.parametrize("state", list(TableState))
def test_transition_table(transition: Transition, state: TableState) -> None:
    assert transition_target(transition, state) == EXPECTED_TRANSITIONS.get((transition, state))


@pytest.mark.parametrize("transition", list(Transition))
def test_read_only_never_changes(transition: Transition) -> None:
    assert transition_target(transition, TableState.READ_ONLY) is None


V, AN, E, AD = Role.VIEWER, Role.ANALYST, Role.ENGINEER, Role.ADMIN
EXPECTED_MATRIX: dict[Capability, set[Role]] = {
    Capability.READ_CATALOG: {V, AN, E, AD},
    Capability.QUERY: {V, AN, E, AD},
    Capability.CORRECT_QUERY: {AN, E, AD},
    Capability.VIEW_SHADOW: {E, AD},
    Capability.REFRESH_SCHEMA: {E, AD},
    Capability.CHECK_COMPATIBILITY: {E, AD},
    Capability.CREATE_CONTRACT: {E, AD},
    Capability.INGEST: {E, AD},
    Capability.VIEW_INGESTION: {E, AD},
    Capability.VIEW_JOIN_CANDIDATES: {E, AD},
    Capability.REGISTER_TABLE: {AD},
    Capability.PROMOTE: {AD},
    Capability.DEPRECATE: {AD},
    Capability.REPLAY: {AD},
    Capability.MANAGE_JOINS: {AD},
    Capability.RESOLVE_DRIFT: {AD},
    Capability.MANAGE_ROLES: {AD},
    Capability.MANAGE_MODE: {AD},
    Capability.VIEW_AUDIT: {AD},
    Capability.VIEW_ANY_PREVIEW: {AD},
    Capability.VIEW_DASHBOARD: {AD},
    Capability.SCRAPE_METRICS: {E, AD},
    Capability.OVERRIDE_GUARDRAILS: {AN, E, AD},
    Capability.SKIP_PREVIEW: {E, AD},
}


def test_matrix_covers_every_capability() -> None:
    assert set(EXPECTED_MATRIX) == set(Capability)


@pytest.mark.parametrize("capability", list(Capability))
@pytest.mark.parametrize("role", list(Role))
def test_role_matrix(role: Role, capability: Capability) -> None:
    assert has_capability(role, capability) == (role in EXPECTED_MATRIX[capability])


@pytest.mark.parametrize("state", list(TableState))
@pytest.mark.parametrize("role", list(Role))
def test_state_visibility(role: Role, state: TableState) -> None:
    expected = state is not TableState.SHADOW or role in (E, AD)
    assert can_see_state(role, state) == expected


def test_state_properties() -> None:
    queryable = {s for s, p in STATE_PROPERTIES.items() if p.queryable}
    assert queryable == {A, R}
    assert {s for s, p in STATE_PROPERTIES.items() if p.writable} == {S}
    assert {s for s, p in STATE_PROPERTIES.items() if p.auto_joined} == {A, R}
    assert {s for s, p in STATE_PROPERTIES.items() if p.hidden_by_default} == {D}


def test_modes() -> None:
    assert DEFAULT_MODE is SystemMode.READ_ONLY
    assert set(CAPABILITY_MODE) == {Capability.CREATE_CONTRACT, Capability.INGEST, Capability.REPLAY}
    assert set(CAPABILITY_MODE.values()) == {SystemMode.INGESTION_READY}


@pytest.mark.parametrize(("versions", "expected"), [
    ([("ACTIVE", 2), ("DEPRECATED", 1), ("SHADOW", 3)], 2),
    ([("READ_ONLY", 1)], 1),
    ([("READ_ONLY", 1), ("ACTIVE", 4)], 4),
    ([("READ_ONLY", 1), ("READ_ONLY", 3)], 3),
    ([("SHADOW", 1), ("DEPRECATED", 2)], None),
    ([], None),
])
def test_unpinned_resolution(versions: list[tuple[str, int]], expected: int | None) -> None:
    from gateway.domain import resolved_version_number

    assert resolved_version_number(versions) == expected
