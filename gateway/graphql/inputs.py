"""Input objects built from graphql-core's coerced values with their fields' types resolved once.

Strawberry converts an input object field by field and, on every request, resolves each field's
annotation again (``StrawberryField.resolve_type``, the generic checks under it, the camel-case
name): for ``previewQuery``'s nine-field input that was a sixth of a cached preview's time. Here
each input type's fields are classified once, when the schema is built, and installed as the
type's ``from_input`` — the hook strawberry calls instead of its own loop — doing exactly what
that loop does:

- every field without a default starts as ``None``; a field the value holds is converted;
- a scalar (or a nullable one) is taken as it is, a list of scalars is copied (graphql-core
  hands every request that omits it the same default list), as strawberry does;
- anything else (enums, nested inputs, GlobalIDs, lists of those) goes through strawberry's
  own conversion, ``InputContext.convert``, unless it is null, unset or an empty list, which
  strawberry returns as null, unset and a new empty list whatever the type.

Types with a ``Maybe`` field keep strawberry's loop: its null check for ``Maybe`` skips types
that set ``from_input``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import strawberry
from strawberry.relay import GlobalID
from strawberry.schema.compat import is_scalar
from strawberry.types.arguments import InputContext
from strawberry.types.base import (
    StrawberryList,
    StrawberryMaybe,
    StrawberryObjectDefinition,
    StrawberryOptional,
    StrawberryType,
)
from strawberry.types.unset import UNSET

Convert = Callable[[Any, InputContext, str], Any]


def _as_is(value: Any, context: InputContext, name: str) -> Any:
    return value


def _copied_list(value: Any, context: InputContext, name: str) -> Any:
    return value if value is None or value is UNSET else list(value)


def _converter(type_: StrawberryType | type, scalars: Mapping[object, Any]) -> Convert:
    def leaf(t: StrawberryType | type) -> bool:
        inner = t.of_type if isinstance(t, StrawberryOptional) else t
        return inner is not GlobalID and is_scalar(inner, scalars)

    if leaf(type_):
        return _as_is
    listed = type_.of_type if isinstance(type_, StrawberryOptional) else type_
    if isinstance(listed, StrawberryList) and leaf(listed.of_type):
        return _copied_list

    def converted(value: Any, context: InputContext, name: str) -> Any:
        if value is None or value is UNSET:
            return value  # strawberry's answer for either, whatever the type (no Maybe here)
        if isinstance(listed, StrawberryList) and not value:
            return []  # an empty list of anything: a new empty list, as strawberry builds it
        return context.convert(value, type_, name)

    return converted


def _has_maybe(definition: StrawberryObjectDefinition) -> bool:
    return any(isinstance(f.resolve_type(type_definition=definition), StrawberryMaybe) for f in definition.fields)


class InputBuilder:
    """The ``from_input`` of one input type: its fields' names and converters, resolved once."""

    def __init__(self, definition: StrawberryObjectDefinition, schema: strawberry.Schema) -> None:
        scalars = schema.schema_converter.scalar_registry
        names = schema.config.name_converter
        self._nulls = {f.python_name: None for f in definition.fields
                       if f.default_value is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
        self._fields = tuple(
            (names.from_field(f), f.python_name, _converter(f.resolve_type(type_definition=definition), scalars))
            for f in definition.fields)

    def __call__(self, type_: type, value: Mapping[str, Any], context: InputContext) -> Any:
        kwargs = dict(self._nulls)
        for graphql_name, python_name, convert in self._fields:
            if graphql_name in value:
                kwargs[python_name] = convert(value[graphql_name], context, graphql_name)
        return type_(**kwargs)


def install_input_builders(schema: strawberry.Schema) -> None:
    """Give every input type of ``schema`` (but those with a ``Maybe`` field) its builder."""
    for concrete in schema.schema_converter.type_map.values():
        definition = concrete.definition
        if (isinstance(definition, StrawberryObjectDefinition) and definition.is_input
                and definition.from_input is None and not _has_maybe(definition)):
            definition.from_input = InputBuilder(definition, schema)
