"""Schema extensions: authentication at the door, and API.md error codes on the way out."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError
from strawberry.extensions import ParserCache, SchemaExtension

from gateway.errors import Unauthenticated, code_of, extensions_of

log = logging.getLogger("spyne.graphql")


class RequireAuthentication(SchemaExtension):
    """No operation runs for an unauthenticated caller; the answer is one UNAUTHENTICATED error."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context.context
        if context.principal is None:
            error = context.auth_error or Unauthenticated("Send `Authorization: Bearer <token>`.")
            self.execution_context.result = GraphQLExecutionResult(
                data=None, errors=[GraphQLError(error.message, original_error=error)]
            )
            response = getattr(context, "response", None)
            if response is not None and hasattr(response, "status_code"):
                response.status_code = 401
        yield


class ErrorCodes(SchemaExtension):
    """Gives every error its ``extensions.code``; masks everything unexpected."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is not None and errors:
            result.errors = [self._translate(e) for e in errors]

    def _translate(self, error: GraphQLError) -> GraphQLError:
        context = self.execution_context.context
        request_id = getattr(context, "request_id", None)
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


class SyntaxSafeParserCache(ParserCache):
    """strawberry's parser cache, except that a syntax error is left to strawberry's own parse.

    The stock cache parses while the parse hooks are being entered, outside strawberry's error
    handling: a syntax error (or the token limit) then escapes the operation hooks, and the
    client gets it without ``extensions.code``. Leaving the document unset makes strawberry parse
    again inside its handler, where ``ErrorCodes`` sees the error like any other.
    """

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        with contextlib.suppress(GraphQLError):  # only bad documents take the second parse
            context.graphql_document = self.cached_parse_document(context.query, **context.parse_options)
        yield
