"""The request extension: authentication before anything walks a document, its limits, cached parse and validation, and API.md error codes on the way out."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from graphql import DocumentNode, GraphQLError, GraphQLSchema, OperationDefinitionNode, parse
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql.validation import ASTValidationRule
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document
from strawberry.types import ExecutionContext

from gateway.errors import Unauthenticated, code_of, extensions_of
from gateway.graphql.contracts_visibility import VisibleSchemas, is_introspection
from gateway.graphql.document_limits import DocumentLimits, check_document

log = logging.getLogger("spyne.graphql")


ValidationKey = tuple[GraphQLSchema, tuple[type[ASTValidationRule], ...]]


@dataclass(slots=True)
class KnownDocument:
    """A parsed document and what was learned about it, cached together under its text.

    Each finding is worked out the first time a request needs it. Keyed by the text, not by the
    document: a document node hashes its whole tree, which three caches keyed by it did on every
    request.
    """

    node: DocumentNode
    limit_errors: list[GraphQLError] | None = None
    validations: dict[ValidationKey, list[GraphQLError]] = field(default_factory=dict)
    introspection: bool | None = None


@dataclass(frozen=True, slots=True)
class RequestRules:
    """What every operation goes through, built once per schema (the document cache lives here)."""

    max_tokens: int
    limits: DocumentLimits
    known: Callable[..., KnownDocument]
    # Which schema the caller sees (None: the full one); it words errors and answers introspection.
    visible: VisibleSchemas | None = None

    @classmethod
    def build(cls, *, max_tokens: int, limits: DocumentLimits, cache_size: int = 512,
              visible: VisibleSchemas | None = None) -> RequestRules:
        # Bounded: a public endpoint must not grow memory with every new query text.
        def known(query: str, **options: Any) -> KnownDocument:
            return KnownDocument(parse(query, **options))

        return cls(max_tokens=max_tokens, limits=limits, known=lru_cache(maxsize=cache_size)(known),
                   visible=visible)

    def limit_errors(self, document: KnownDocument) -> list[GraphQLError]:
        if document.limit_errors is None:
            document.limit_errors = check_document(document.node, self.limits)
        return document.limit_errors

    @staticmethod
    def validate(document: KnownDocument, schema: GraphQLSchema,
                 rules: tuple[type[ASTValidationRule], ...]) -> list[GraphQLError]:
        found = document.validations.get((schema, rules))
        if found is None:
            found = document.validations[(schema, rules)] = validate_document(schema, document.node, rules)
        return found

    @staticmethod
    def introspects(document: KnownDocument) -> bool:
        if document.introspection is None:
            document.introspection = is_introspection(document.node)
        return document.introspection


class GatewayRequest(SchemaExtension):
    """Every per-request rule of the gateway in one extension: one instance and one hook per phase.

    In order:

    - before parsing: the token limit (the parser stops counting past it);
    - parsing from the cache, except that a syntax error (or the token limit) is left to
      strawberry's own parse: raised here it would escape the operation hook, and the client
      would get it without ``extensions.code``;
    - authentication: an unauthenticated caller gets one UNAUTHENTICATED error (HTTP 401) and
      nothing looks at the document further — no limits, no validation, no suggestions;
    - the document's limits (depth, aliases, fragment spreads, selections once fragments are
      expanded), measured in one pass linear in its size (``document_limits``) before anything
      walks the expansion;
    - validation from the cache (keyed by schema, document and rules); when it fails, the errors
      are worded against the schema the caller may see, so no suggestion names a hidden field;
    - introspection answered from the caller's schema;
    - on the way out, every error gets its ``extensions.code``, the unexpected are masked, and
      each is logged once: refusals at INFO, the unexpected at ERROR with the traceback.
    """

    def __init__(self, rules: RequestRules) -> None:
        self.rules = rules
        self.document: KnownDocument | None = None  # None: strawberry parsed it (a syntax error)

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.parse_options["max_tokens"] = self.rules.max_tokens
        yield
        result = context.result
        errors = getattr(result, "errors", None)
        if result is not None and errors:
            request_id = getattr(context.context, "request_id", None)
            result.errors = [translate(e, request_id) for e in errors]

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        with contextlib.suppress(GraphQLError):  # only bad documents take the second parse
            self.document = self.rules.known(context.query, **context.parse_options)
            context.graphql_document = self.document.node
        yield

    async def on_validate(self) -> AsyncIterator[None]:
        context = self.execution_context
        document = self.document
        assert document is not None and context.graphql_document is document.node
        if getattr(context.context, "principal", None) is None:
            context.pre_execution_errors = [unauthenticated_error(context)]
            yield
            return
        errors = self.rules.limit_errors(document)
        if not errors:
            full = context.schema._schema
            rules = tuple(context.validation_rules)
            errors = self.rules.validate(document, full, rules)
            if errors and self.rules.visible is not None:
                visible = await self.rules.visible.for_caller(context.context)
                if visible is not None:
                    # Worded against what the caller sees; the full schema's words could name a
                    # hidden field ("Did you mean 'quarantine'?").
                    errors = self.rules.validate(document, visible, rules) or [
                        GraphQLError(e.message.split(" Did you mean")[0], nodes=e.nodes) for e in errors]
        if not errors and context._provided_operation_name is None:
            operations = [d for d in document.node.definitions if isinstance(d, OperationDefinitionNode)]
            if len(operations) > 1:
                # The spec's rule; left alone, strawberry would quietly run the first one (its
                # `operation_name` falls back to the first operation, hence the provided one).
                errors = [GraphQLError(
                    "This document has several operations: name the one to run in `operationName`.")]
        context.pre_execution_errors = errors
        yield

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        if context.context.principal is None:  # never reached through validation; kept as a floor
            context.result = GraphQLExecutionResult(data=None, errors=[unauthenticated_error(context)])
        elif self.rules.visible is not None and self.document is not None and self.rules.introspects(
                self.document):
            visible = await self.rules.visible.for_caller(context.context)
            if visible is not None:
                await self.rules.visible.introspect(context, visible)
        yield


def unauthenticated_error(execution_context: ExecutionContext) -> GraphQLError:
    """The one error an unauthenticated caller gets (and the HTTP status 401)."""
    context = execution_context.context
    error = context.auth_error or Unauthenticated("Send `Authorization: Bearer <token>`.")
    response = getattr(context, "response", None)
    if response is not None and hasattr(response, "status_code"):
        response.status_code = 401
    return GraphQLError(error.message, original_error=error)


def translate(error: GraphQLError, request_id: str | None) -> GraphQLError:
    """An error with its API.md ``extensions.code``; anything unexpected is logged and masked.

    Each error is logged here once: a refusal (any coded error: the caller's mistake or lack of
    rights) at INFO with its code, the unexpected at ERROR with the traceback.
    """
    original = error.original_error
    # A value graphql-core (or a scalar's parser) could not coerce arrives wrapping its cause: a
    # variable with no path, an argument (`pins: $p` with `{"p": null}`) with the field's path.
    # Either is the request's fault, not an unexpected error to mask and log.
    refused_value = original is not None and code_of(original) is None and (
        isinstance(original, GraphQLError)
        or (error.path is None and error.message.startswith("Variable '$")))
    if original is None or refused_value:
        # Parse and validation errors, query limits, variable coercion: the request itself.
        code = (error.extensions or {}).get("code") or "INVALID_INPUT"
        _refused(code, error.message, request_id)
        return GraphQLError(error.message, nodes=error.nodes, source=error.source,
                            positions=error.positions, path=error.path,
                            extensions={**(error.extensions or {}), "code": code, "requestId": request_id})
    code = code_of(original)
    if code is None:
        log.error("unexpected error in %s (request %s)", error.path, request_id, exc_info=original,
                  extra={"code": "INTERNAL", "request_id": request_id})
        return GraphQLError(
            f"Unexpected error; it was logged with request id {request_id}.",
            nodes=error.nodes, positions=error.positions, path=error.path,
            extensions={"code": "INTERNAL", "requestId": request_id},
        )
    message = getattr(original, "message", None) or str(original)
    _refused(code, message, request_id)
    return GraphQLError(message, nodes=error.nodes, positions=error.positions, path=error.path,
                        extensions={"code": code, **extensions_of(original), "requestId": request_id})


def _refused(code: str, message: str, request_id: str | None) -> None:
    log.info("refused %s: %s", code, message, extra={"code": code, "request_id": request_id})
