"""Schema extensions: the token limit, cached parse and validation, authentication at the door, and API.md error codes on the way out."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

from graphql import DocumentNode, GraphQLError, GraphQLSchema, OperationDefinitionNode, parse
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql.validation import ASTValidationRule
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document
from strawberry.types import ExecutionContext

from gateway.errors import Unauthenticated, code_of, extensions_of

log = logging.getLogger("spyne.graphql")


@dataclass(frozen=True, slots=True)
class RequestRules:
    """What every operation goes through, built once per schema (the caches live here)."""

    max_tokens: int
    validation_rules: tuple[type[ASTValidationRule], ...]
    parse: Callable[..., DocumentNode]
    validate: Callable[[GraphQLSchema, DocumentNode, tuple[type[ASTValidationRule], ...]], list[GraphQLError]]
    # Answers an introspection operation from the public schema when the caller should see that one.
    introspect_publicly: Callable[[ExecutionContext], Awaitable[None]] | None = None

    @classmethod
    def build(cls, *, max_tokens: int, validation_rules: Sequence[type[ASTValidationRule]], cache_size: int = 512,
              introspect_publicly: Callable[[ExecutionContext], Awaitable[None]] | None = None) -> RequestRules:
        # Bounded: a public endpoint must not grow memory with every new query text.
        return cls(max_tokens=max_tokens, validation_rules=tuple(validation_rules),
                   parse=lru_cache(maxsize=cache_size)(parse), validate=lru_cache(maxsize=cache_size)(validate_document),
                   introspect_publicly=introspect_publicly)


class GatewayRequest(SchemaExtension):
    """Every per-request rule of the gateway in one extension: one instance and one hook per phase.

    It replaces seven (error codes, the token limit, the depth and alias rules, the parser and
    validation caches, authentication, the public schema's introspection), each instantiated
    and entered per request; the rules and their order are the same:

    - before parsing: the token limit and the depth/alias validation rules;
    - parsing from the cache, except that a syntax error (or the token limit) is left to
      strawberry's own parse: raised here it would escape the operation hook, and the client
      would get it without ``extensions.code``;
    - validation from the cache (keyed by schema, document and rules);
    - no execution for an unauthenticated caller: one UNAUTHENTICATED error, HTTP 401;
    - introspection answered from the public schema where that applies;
    - on the way out, every error gets its ``extensions.code`` and the unexpected are masked.
    """

    def __init__(self, rules: RequestRules) -> None:
        self.rules = rules

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.parse_options["max_tokens"] = self.rules.max_tokens
        context.validation_rules = context.validation_rules + self.rules.validation_rules
        yield
        result = context.result
        errors = getattr(result, "errors", None)
        if result is not None and errors:
            request_id = getattr(context.context, "request_id", None)
            result.errors = [translate(e, request_id) for e in errors]

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        with contextlib.suppress(GraphQLError):  # only bad documents take the second parse
            context.graphql_document = self.rules.parse(context.query, **context.parse_options)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        assert context.graphql_document is not None
        context.pre_execution_errors = self.rules.validate(
            context.schema._schema, context.graphql_document, context.validation_rules)
        if not context.pre_execution_errors and context._provided_operation_name is None:
            operations = [d for d in context.graphql_document.definitions
                          if isinstance(d, OperationDefinitionNode)]
            if len(operations) > 1:
                # The spec's rule; left alone, strawberry would quietly run the first one (its
                # `operation_name` falls back to the first operation, hence the provided one).
                context.pre_execution_errors = [GraphQLError(
                    "This document has several operations: name the one to run in `operationName`.")]
        yield

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        if context.context.principal is None:
            refuse_unauthenticated(context)
        elif self.rules.introspect_publicly is not None:
            await self.rules.introspect_publicly(context)
        yield


def refuse_unauthenticated(execution_context: ExecutionContext) -> None:
    """No operation runs for an unauthenticated caller; the answer is one UNAUTHENTICATED error."""
    context = execution_context.context
    error = context.auth_error or Unauthenticated("Send `Authorization: Bearer <token>`.")
    execution_context.result = GraphQLExecutionResult(
        data=None, errors=[GraphQLError(error.message, original_error=error)]
    )
    response = getattr(context, "response", None)
    if response is not None and hasattr(response, "status_code"):
        response.status_code = 401


def translate(error: GraphQLError, request_id: str | None) -> GraphQLError:
    """An error with its API.md ``extensions.code``; anything unexpected is logged and masked."""
    original = error.original_error
    # A variable graphql-core (or a scalar's parser) could not coerce arrives wrapping its cause,
    # with no path: still the request's fault, not an unexpected error to mask and log.
    refused_value = (original is not None and code_of(original) is None and error.path is None
                     and (isinstance(original, GraphQLError) or error.message.startswith("Variable '$")))
    if original is None or refused_value:
        # Parse and validation errors, query limits, variable coercion: the request itself.
        code = (error.extensions or {}).get("code") or "INVALID_INPUT"
        return GraphQLError(error.message, nodes=error.nodes, source=error.source,
                            positions=error.positions, path=error.path,
                            extensions={"code": code, "requestId": request_id})
    code = code_of(original)
    if code is None:
        log.error("unexpected error in %s (request %s)", error.path, request_id, exc_info=original)
        return GraphQLError(
            f"Unexpected error; it was logged with request id {request_id}.",
            nodes=error.nodes, positions=error.positions, path=error.path,
            extensions={"code": "INTERNAL", "requestId": request_id},
        )
    message = getattr(original, "message", None) or str(original)
    return GraphQLError(message, nodes=error.nodes, positions=error.positions, path=error.path,
                        extensions={"code": code, **extensions_of(original), "requestId": request_id})
