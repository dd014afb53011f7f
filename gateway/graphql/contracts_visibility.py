"""In READ_ONLY mode, VIEWER and ANALYST introspect a schema without the ingestion fields.

Two real schemas are built from the same types: the full one (what ``schema.graphql`` prints,
with every ``@requiresRole``/``@requiresMode``) and a public one, built through strawberry's
documented ``Schema.get_fields`` hook, that leaves out every field carrying ``@requiresMode``
or marked ``hidden_in_read_only``; types only those fields reach disappear with them. The
class :class:`VisibleSchemas` answers an introspection operation from the public schema
when the system is READ_ONLY and the caller may not see ingestion (below ENGINEER). Executing a hidden field is
refused anyway by its guard (FORBIDDEN or MODE_DISABLED); this only keeps it out of sight:
introspection (however it is written, through fragments too) and the wording of validation
errors (no "Did you mean 'quarantine'?" to a VIEWER) come from the schema the caller may see.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from inspect import isawaitable
from typing import Any

import strawberry
from graphql import DocumentNode, FieldNode, GraphQLSchema, Node, SelectionSetNode, execute
from strawberry.types import ExecutionContext
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.field import StrawberryField

from gateway.domain import Capability, SystemMode, has_capability
from gateway.graphql.directives import RequiresMode

HIDDEN_MARK = "hidden_in_read_only"
# Who introspects the full schema in READ_ONLY mode: whoever may see ingestion at all.
FULL_SCHEMA_CAPABILITY = Capability.VIEW_INGESTION


def hidden_in_read_only(field: StrawberryField) -> bool:
    metadata: dict[str, Any] = dict(field.metadata or {})
    return bool(metadata.get(HIDDEN_MARK)) or any(
        isinstance(d, RequiresMode) for d in field.directives)


class PublicSchema(strawberry.Schema):
    """The schema as a VIEWER or ANALYST sees it while ingestion is off."""

    def get_fields(self, type_definition: StrawberryObjectDefinition) -> list[StrawberryField]:
        return [f for f in type_definition.fields if not hidden_in_read_only(f)]


def is_introspection(document: DocumentNode) -> bool:
    """Whether any selection of the document, fragments included, is ``__schema`` or ``__type``.

    Every field node is looked at, wherever it is written: an introspection reached through a
    named fragment (``query { ...F } fragment F on Query { __schema { … } }``) is one too.
    """
    return any(isinstance(node, FieldNode) and node.name.value in ("__schema", "__type")
               for node in _nodes(document))


def _nodes(document: DocumentNode) -> Iterator[Node]:
    stack: list[Node] = list(document.definitions)
    while stack:
        node = stack.pop()
        yield node
        selection_set = getattr(node, "selection_set", None)
        if isinstance(selection_set, SelectionSetNode):
            stack.extend(selection_set.selections)


@dataclass(frozen=True)
class VisibleSchemas:
    """Which schema a caller may see: the full one, or the public one while ingestion is off.

    The gateway's request extension (``GatewayRequest``) asks it, once the caller is
    authenticated, for the schema that words validation errors (so no suggestion names a hidden
    field) and that answers introspection.
    """

    public: strawberry.Schema

    async def for_caller(self, context: Any) -> GraphQLSchema | None:
        """The public schema when it is the one this caller sees, else None (the full schema)."""
        principal = getattr(context, "principal", None)
        if (principal is not None and not has_capability(principal.role, FULL_SCHEMA_CAPABILITY)
                and await context.services.users.mode() is SystemMode.READ_ONLY):
            return self.public._schema
        return None

    async def introspect(self, ec: ExecutionContext, schema: GraphQLSchema) -> None:
        """Answers an introspection operation (see :func:`is_introspection`) from ``schema``."""
        document = ec.graphql_document
        if ec.result is None and document is not None:
            result = execute(schema, document, root_value=ec.root_value, context_value=ec.context,
                             variable_values=ec.variables, operation_name=ec.operation_name)
            ec.result = await result if isawaitable(result) else result  # type: ignore[assignment]
