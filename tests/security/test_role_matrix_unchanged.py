"""Every guarded field, called by every role below the one it needs, is FORBIDDEN and changes
nothing; every ingestion mutation, called by a role high enough while the system is READ_ONLY, is
MODE_DISABLED and changes nothing. The calls are generated from the schema (the same generator as
tests/graphql/test_schema.py), so a new mutation is covered the day it is added."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.domain import Role
from gateway.graphql.directives import RequiresMode
from tests.graphql.test_schema import GUARDED, SCHEMA, _camel
from tests.security.snapshot import unchanged
from tests.support.harness import Gateway

BELOW = [(name, role, document, variables) for name, needed, document, variables in GUARDED
         for role in Role if not role.at_least(needed)]

MODE_GUARDED = {_camel(f.python_name) for f in SCHEMA.get_type_by_name("Mutation").fields  # type: ignore[union-attr]
                if any(isinstance(d, RequiresMode) for d in f.directives)}
IN_WRONG_MODE = [(name, needed, document, variables) for name, needed, document, variables in GUARDED
                 if name in MODE_GUARDED]


def test_the_matrix_is_not_empty() -> None:
    assert len(BELOW) >= 40
    assert {"ingest", "registerContract", "replay", "backfill", "confirmOperation"} <= MODE_GUARDED


@pytest.mark.parametrize(("name", "role", "document", "variables"), BELOW,
                         ids=[f"{name}-as-{role.value}" for name, role, _, _ in BELOW])
async def test_a_role_below_is_forbidden_and_changes_nothing(hostile: Gateway, name: str, role: Role, document: str,
                                                           variables: dict[str, Any]) -> None:
    await hostile.ok("{ me { email } }", role=role.value)  # the caller is known before counting
    async with unchanged(hostile):
        body = await hostile.gql(document, variables, role=role.value)
    assert body.get("errors"), f"{name} let {role.value} through"
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body["errors"]
    assert not any(v for v in (body.get("data") or {}).values()), body


@pytest.mark.parametrize(("name", "needed", "document", "variables"), IN_WRONG_MODE,
                         ids=[c[0] for c in IN_WRONG_MODE])
async def test_ingestion_in_read_only_mode_is_mode_disabled_and_changes_nothing(
        hostile: Gateway, name: str, needed: Role, document: str, variables: dict[str, Any]) -> None:
    for role in (needed, Role.ADMIN):
        async with unchanged(hostile):
            body = await hostile.gql(document, variables, role=role.value)
        assert body["errors"][0]["extensions"]["code"] == "MODE_DISABLED", (name, role, body["errors"])
