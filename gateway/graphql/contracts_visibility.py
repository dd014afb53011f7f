"""In READ_ONLY mode, VIEWER and ANALYST introspect a schema without the ingestion fields.

Two real schemas are built from the same types: the full one (what ``schema.graphql`` prints,
with every ``@requiresRole``/``@requiresMode``) and a public one, built through strawberry's
documented ``Schema.get_fields`` hook, that leaves out every field carrying ``@requiresMode``
or marked ``hidden_in_read_only``; types only those fields reach disappear with them. The
step :func:`public_introspection` answers an introspection operation from the public schema
when the system is READ_ONLY and the caller may not see ingestion (below ENGINEER). Executing a hidden field is
refused anyway by its guard (FORBIDDEN or MODE_DISABLED); this only keeps it out of sight.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from inspect import isawaitable
from typing import Any

import strawberry
from graphql import FieldNode, InlineFragmentNode, OperationDefinitionNode, SelectionSetNode, execute
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


def _introspects(selection_set: SelectionSetNode | None) -> bool:
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, FieldNode) and selection.name.value in ("__schema", "__type"):
            return True
        if isinstance(selection, InlineFragmentNode) and _introspects(selection.selection_set):
            return True
    return False


def is_introspection(document: Any) -> bool:
    return any(isinstance(d, OperationDefinitionNode) and _introspects(d.selection_set)
               for d in getattr(document, "definitions", ()))


def public_introspection(public: strawberry.Schema) -> Callable[[ExecutionContext], Awaitable[None]]:
    """The execute step that answers a VIEWER's or ANALYST's introspection from ``public``.

    Run by the gateway's request extension (``GatewayRequest``) once the caller is authenticated.
    """

    async def introspect_publicly(ec: ExecutionContext) -> None:
        context = ec.context
        principal = getattr(context, "principal", None)
        document = ec.graphql_document
        if (ec.result is None and document is not None and principal is not None
                and not has_capability(principal.role, FULL_SCHEMA_CAPABILITY)
                and is_introspection(document)
                and await context.services.users.mode() is SystemMode.READ_ONLY):
            result = execute(public._schema, document, root_value=ec.root_value, context_value=context,
                             variable_values=ec.variables, operation_name=ec.operation_name)
            ec.result = await result if isawaitable(result) else result  # type: ignore[assignment]

    return introspect_publicly
