"""The printed schema is current, and its directives are exactly what the server enforces."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
)

from gateway.domain import Role
from gateway.graphql.directives import Guard, RequiresRole
from gateway.graphql.export import schema_sdl
from gateway.graphql.schema import build_schema
from tests.support.harness import Gateway

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = build_schema()


def test_schema_graphql_is_current() -> None:
    printed = (ROOT / "schema.graphql").read_text()
    assert printed == schema_sdl(), "schema.graphql is stale: run `make schema`"


def _fields(type_name: str) -> list[Any]:
    definition = SCHEMA.get_type_by_name(type_name)
    return list(definition.fields) if definition else []  # type: ignore[union-attr]


def _role_directive(field: Any) -> RequiresRole | None:
    return next((d for d in field.directives if isinstance(d, RequiresRole)), None)


def test_every_mutation_declares_a_role() -> None:
    missing = [f.python_name for f in _fields("Mutation") if _role_directive(f) is None]
    assert not missing, f"mutations without @requiresRole: {missing}"


@pytest.mark.parametrize("type_name", ["Query", "Mutation", "Subscription"])
def test_directive_and_guard_come_together(type_name: str) -> None:
    for field in _fields(type_name):
        has_guard = any(isinstance(e, Guard) for e in field.extensions)
        assert has_guard == (_role_directive(field) is not None), field.python_name


def test_printed_schema_shows_the_directives() -> None:
    sdl = schema_sdl()
    for field in _fields("Mutation"):
        directive = _role_directive(field)
        assert directive is not None
        line = next(ln for ln in sdl.splitlines() if ln.strip().startswith(_camel(field.python_name) + "("))
        assert f"@requiresRole(role: {directive.role.value})" in line


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def _dummy(graphql_type: Any) -> Any:
    """A well-typed value for an argument, so the call reaches the guard."""
    if isinstance(graphql_type, GraphQLNonNull):
        return _dummy(graphql_type.of_type)
    if isinstance(graphql_type, GraphQLList):
        return []
    if isinstance(graphql_type, GraphQLEnumType):
        return next(iter(graphql_type.values))
    if isinstance(graphql_type, GraphQLInputObjectType):
        return {name: _dummy(f.type) for name, f in graphql_type.fields.items()
                if isinstance(f.type, GraphQLNonNull)}
    if isinstance(graphql_type, GraphQLScalarType):
        return {"Int": 1, "Float": 1.0, "Boolean": True, "JSON": {}, "DateTime": "2026-01-01T00:00:00+00:00"}.get(
            graphql_type.name, "x")
    raise AssertionError(graphql_type)


def _type_text(graphql_type: Any) -> str:
    if isinstance(graphql_type, GraphQLNonNull):
        return _type_text(graphql_type.of_type) + "!"
    if isinstance(graphql_type, GraphQLList):
        return "[" + _type_text(graphql_type.of_type) + "]"
    return str(graphql_type.name)


def _calls(root: str) -> list[tuple[str, Role, str, dict[str, Any]]]:
    gql_type = SCHEMA._schema.get_type(root)  # graphql-core view, to read argument types
    calls = []
    for field in _fields(root):
        directive = _role_directive(field)
        if directive is None:
            continue
        name = _camel(field.python_name)
        args = gql_type.fields[name].args  # type: ignore[union-attr]
        params = ", ".join(f"${a}: {_type_text(t.type)}" for a, t in args.items())
        call_args = ", ".join(f"{a}: ${a}" for a in args)
        variables = {a: _dummy(t.type) for a, t in args.items() if isinstance(t.type, GraphQLNonNull)}
        op = "mutation" if root == "Mutation" else "query"
        header = f"{op} ({params})" if params else op
        call = f"{name}({call_args})" if call_args else name
        selection = _selection(gql_type.fields[name].type)  # type: ignore[union-attr]
        calls.append((name, Role(directive.role.value), f"{header} {{ {call} {selection} }}", variables))
    return calls


def _selection(graphql_type: Any) -> str:
    while isinstance(graphql_type, GraphQLNonNull | GraphQLList):
        graphql_type = graphql_type.of_type
    return "" if isinstance(graphql_type, GraphQLScalarType | GraphQLEnumType) else "{ __typename }"


GUARDED = _calls("Mutation") + _calls("Query")


@pytest.mark.parametrize(("name", "needed", "document", "variables"), GUARDED, ids=[c[0] for c in GUARDED])
async def test_every_role_below_is_forbidden(gateway: Gateway, name: str, needed: Role, document: str,
                                             variables: dict[str, Any]) -> None:
    for role in Role:
        if role.at_least(needed):
            continue
        body = await gateway.gql(document, variables, role=role.value)
        assert body.get("errors"), f"{name} let {role.value} through"
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", (name, role, body["errors"])


def test_graphql_enums_match_the_planner() -> None:
    from gateway.graphql.types.queries import CorrectionKind, GuardrailType
    from planner import CORRECTION_KINDS, GUARDRAIL_TYPES

    assert [t.value for t in GuardrailType] == list(GUARDRAIL_TYPES)
    assert {k.value for k in CorrectionKind} == set(CORRECTION_KINDS)
