"""The caller's recent previews and executions (the workbench's history panel)."""

from __future__ import annotations

import strawberry

from gateway.domain import Capability
from gateway.graphql.directives import guarded
from gateway.graphql.types.history import QueryHistoryEntry


@strawberry.type
class HistoryQuery:
    @guarded(Capability.QUERY,
             description="Your own recent previews, newest first, each with your executions of it (at most 200).")
    async def query_history(self, info: strawberry.Info, first: int = 20) -> list[QueryHistoryEntry]:
        ctx = info.context
        return [QueryHistoryEntry.of(h) for h in await ctx.services.history.recent(ctx.require_principal(), first)]
