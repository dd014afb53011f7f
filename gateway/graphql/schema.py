"""The GraphQL schema: each area contributes its own Query and Mutation pieces, merged here."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ValidationCache,
)
from strawberry.extensions.max_aliases import create_validator as alias_limit_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_limit_rule
from strawberry.tools import merge_types

from gateway.graphql.catalog import CatalogMutation, CatalogQuery
from gateway.graphql.contracts import ContractsMutation, ContractsQuery
from gateway.graphql.contracts_visibility import ModeVisibility, PublicSchema
from gateway.graphql.directives import RequiresMode, RequiresRole
from gateway.graphql.drift import DriftMutation, DriftQuery
from gateway.graphql.events import EventsSubscription
from gateway.graphql.extensions import ErrorCodes, RequireAuthentication, SyntaxSafeParserCache
from gateway.graphql.joins import JoinsMutation, JoinsQuery
from gateway.graphql.queries import QueriesMutation, QueriesQuery
from gateway.graphql.system import SystemMutation, SystemQuery

QUERY_PARTS: tuple[type, ...] = (SystemQuery, CatalogQuery, QueriesQuery, ContractsQuery, JoinsQuery,
                                 DriftQuery)
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
    return strawberry.Schema(
        query=query,
        mutation=mutation,
        subscription=subscription,
        schema_directives=[RequiresRole, RequiresMode],
        extensions=[
            ErrorCodes,
            # Factories: a fresh extension per request. The parser and validation caches
            # live at module level (keyed by maxsize), so they are shared all the same.
            lambda: MaxTokensLimiter(max_token_count=max_tokens),
            lambda: AddValidationRules(limit_rules),
            lambda: SyntaxSafeParserCache(maxsize=512),
            lambda: ValidationCache(maxsize=512),
            RequireAuthentication,
            lambda: ModeVisibility(public),
        ],
    )
