"""The IDE's language surface: completion and formatting (``validateQuery`` is with the previews)."""

from __future__ import annotations

import strawberry

from gateway.domain import Capability
from gateway.errors import InvalidInput
from gateway.graphql.directives import guarded
from gateway.graphql.types.language import QueryCompletion


@strawberry.type
class LanguageQuery:
    @guarded(Capability.QUERY, description="What fits at the cursor (1-based line and column): tables you may "
                                           "query, columns in scope, functions, accepted join conditions, keywords.")
    async def complete_query(self, info: strawberry.Info, sql: str, line: int, column: int,
                             dialect: str | None = None) -> QueryCompletion:
        if line < 1 or column < 1:
            raise InvalidInput("`line` and `column` start at 1.")
        ctx = info.context
        return QueryCompletion.of(await ctx.services.language.complete(
            ctx.require_principal(), sql, line, column, dialect))

    @guarded(Capability.QUERY, description="The SQL pretty-printed in its dialect, comments kept.")
    async def format_query(self, info: strawberry.Info, sql: str, dialect: str | None = None) -> str:
        ctx = info.context
        return await ctx.services.language.format(ctx.require_principal(), sql, dialect)  # type: ignore[no-any-return]
