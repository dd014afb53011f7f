"""The GraphQL schema: each area contributes its own Query and Mutation pieces, merged here."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from gateway.graphql.catalog import CatalogMutation, CatalogQuery
from gateway.graphql.contracts import ContractsMutation, ContractsQuery
from gateway.graphql.contracts_visibility import PublicSchema, VisibleSchemas
from gateway.graphql.directives import RequiresMode, RequiresRole
from gateway.graphql.document_limits import DocumentLimits
from gateway.graphql.drift import DriftMutation, DriftQuery
from gateway.graphql.events import EventsSubscription
from gateway.graphql.extensions import GatewayRequest, RequestRules
from gateway.graphql.history import HistoryQuery
from gateway.graphql.inputs import install_input_builders
from gateway.graphql.joins import JoinsMutation, JoinsQuery
from gateway.graphql.language import LanguageQuery
from gateway.graphql.queries import QueriesMutation, QueriesQuery
from gateway.graphql.system import SystemMutation, SystemQuery

QUERY_PARTS: tuple[type, ...] = (SystemQuery, CatalogQuery, QueriesQuery, ContractsQuery, JoinsQuery,
                                 DriftQuery, LanguageQuery, HistoryQuery)
SUBSCRIPTION_PARTS: tuple[type, ...] = (EventsSubscription,)
MUTATION_PARTS: tuple[type, ...] = (SystemMutation, CatalogMutation, QueriesMutation, ContractsMutation, JoinsMutation,
                                    DriftMutation)


class GatewaySchema(strawberry.Schema):
    """Strawberry's schema, without its own error log.

    Strawberry logs every error of a result at ERROR with a traceback, refusals included (a
    FORBIDDEN, a validation error). The request extension logs each error once instead, at the
    level it deserves (``extensions.translate``): refusals at INFO, the unexpected at ERROR.
    """

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        return None


def build_schema(*, limits: DocumentLimits | None = None, max_tokens: int = 5_000) -> strawberry.Schema:
    query = merge_types("Query", QUERY_PARTS)
    mutation = merge_types("Mutation", MUTATION_PARTS)
    subscription = merge_types("Subscription", SUBSCRIPTION_PARTS)
    # What VIEWER and ANALYST see in READ_ONLY mode: the same types minus ingestion fields.
    public = PublicSchema(query=query, mutation=mutation, subscription=subscription,
                          schema_directives=[RequiresRole, RequiresMode])
    # Strawberry's depth and alias limiters are not used: they expand fragments without memory
    # (exponential in a document's size); `document_limits` measures the same in one pass.
    rules = RequestRules.build(max_tokens=max_tokens, limits=limits or DocumentLimits(),
                               visible=VisibleSchemas(public))
    schema = GatewaySchema(
        query=query,
        mutation=mutation,
        subscription=subscription,
        schema_directives=[RequiresRole, RequiresMode],
        # One extension, a fresh instance per request (a factory); its caches live in `rules`.
        extensions=[lambda: GatewayRequest(rules)],
    )
    install_input_builders(schema)
    return schema
