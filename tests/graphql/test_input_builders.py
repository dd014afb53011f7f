"""Every input type built by its installed builder equals what strawberry's own conversion builds."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
)
from strawberry.types.arguments import convert_argument
from strawberry.types.base import StrawberryObjectDefinition

from gateway.graphql.inputs import InputBuilder
from gateway.graphql.schema import build_schema

SCHEMA = build_schema()
SCALARS = {"String": "text", "Int": 3, "Float": 1.5, "Boolean": True, "ID": "id-1", "JSON": {"a": [1, None]}}


def sample(type_: GraphQLInputType, depth: int, omit: int) -> Any:
    """A value as graphql-core hands it to strawberry (enums as their Python values)."""
    if isinstance(type_, GraphQLNonNull):
        return sample(type_.of_type, depth, omit)
    if isinstance(type_, GraphQLList):
        return [sample(type_.of_type, depth, omit), sample(type_.of_type, depth, omit + 1)]
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values.values())).value
    if isinstance(type_, GraphQLScalarType):
        return SCALARS.get(type_.name, "x")
    assert isinstance(type_, GraphQLInputObjectType)
    value: dict[str, Any] = {}
    for index, (name, field) in enumerate(type_.fields.items()):
        if (index + omit) % 3 == 2 and not isinstance(field.type, GraphQLNonNull):
            continue  # omitted by the client (graphql-core fills a published default in)
        if depth > 2:
            value[name] = None if not isinstance(field.type, GraphQLNonNull) else sample(field.type, depth + 1, omit)
        else:
            value[name] = sample(field.type, depth + 1, omit + index)
    return value


def inputs() -> list[StrawberryObjectDefinition]:
    return [c.definition for c in SCHEMA.schema_converter.type_map.values()
            if isinstance(c.definition, StrawberryObjectDefinition) and c.definition.is_input]


@pytest.mark.parametrize("definition", inputs(), ids=lambda d: d.name)
@pytest.mark.parametrize("omit", [0, 1, 2])
def test_the_builder_builds_what_strawberry_builds(definition: StrawberryObjectDefinition, omit: int) -> None:
    assert isinstance(definition.from_input, InputBuilder)
    graphql_type = SCHEMA._schema.get_type(definition.name)
    assert isinstance(graphql_type, GraphQLInputObjectType)
    value = sample(graphql_type, 0, omit)
    registry, config = SCHEMA.schema_converter.scalar_registry, SCHEMA.config
    built = convert_argument(value, definition.origin, registry, config)
    hook, definition.from_input = definition.from_input, None
    try:
        expected = convert_argument(value, definition.origin, registry, config)
    finally:
        definition.from_input = hook
    assert built == expected


def test_a_list_of_scalars_is_a_copy_not_the_request_value() -> None:
    from gateway.graphql.types.queries import PreviewQueryInput

    where = ["total > 10"]
    built = convert_argument({"select": ["orders.id"], "where": where, "pins": []}, PreviewQueryInput,
                             SCHEMA.schema_converter.scalar_registry, SCHEMA.config)
    assert built.where == where and built.where is not where
