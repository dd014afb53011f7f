"""The GraphQL schema: each area contributes its own Query and Mutation pieces, merged here."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.extensions.max_aliases import create_validator as alias_limit_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_limit_rule
from strawberry.tools import merge_types

from gateway.graphql.catalog import CatalogMutation, CatalogQuery
from gateway.graphql.contracts import ContractsMutation, ContractsQuery
from gateway.graphql.contracts_visibility import PublicSchema, public_introspection
from gateway.graphql.directives import RequiresMode, RequiresRole
from gateway.graphql.drift import DriftMutation, DriftQuery
from gateway.graphql.events import EventsSubscription
from gateway.graphql.extensions import GatewayRequest, RequestRules
from gateway.graphql.joins import JoinsMutation, JoinsQuery
from gateway.graphql.language import LanguageQuery
from gateway.graphql.queries import QueriesMutation, QueriesQuery
from gateway.graphql.system import SystemMutation, SystemQuery

QUERY_PARTS: tuple[type, ...] = (SystemQuery, CatalogQuery, QueriesQuery, ContractsQuery, JoinsQuery,
                                 DriftQuery, LanguageQuery)
SUBSCRIPTION_PARTS: tuple[type, ...] = (EventsSubscription,)
MUTATION_PARTS: tuple[type, ...] = (SystemMutation, CatalogMutation, QueriesMutation, ContractsMutation, JoinsMutation,
                                    DriftMutation)


def build_schema(*, max_depth: int = 12, max_tokens: int = 5_000, max_aliases: int = 30) -> strawberry.Schema:
    # The limit rules are built once: the validation cache keys on the rule classes, and the
    # stock limiter extensions build new classes per request, which would miss every time.
    limit_rules: list[Any] = [depth_limit_rule(max_depth, None, None), alias_limit_rule(max_aliases)]
    query = merge_types("Query", QUERY_PARTS)
    mutation = merge_types("Mutation", MUTATION_PARTS)
    subscription = merge_types("Subscription", SUBSCRIPTION_PARTS)
    # What VIEWER and ANALYST introspect in READ_ONLY mode: the same types minus ingestion fields.
    public = PublicSchema(query=query, mutation=mutation, subscription=subscription,
                          schema_directives=[RequiresRole, RequiresMode])
    rules = RequestRules.build(max_tokens=max_tokens, validation_rules=limit_rules,
                               introspect_publicly=public_introspection(public))
    return strawberry.Schema(
        query=query,
        mutation=mutation,
        subscription=subscription,
        schema_directives=[RequiresRole, RequiresMode],
        # One extension, a fresh instance per request (a factory); its caches live in `rules`.
        extensions=[lambda: GatewayRequest(rules)],
    )
