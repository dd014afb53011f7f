"""Join fields. Resolvers translate arguments, call one service, convert."""

from __future__ import annotations

import strawberry

from gateway.domain import Capability
from gateway.graphql.directives import guarded, guarded_mutation
from gateway.graphql.types.joins import Join, JoinCandidate
from gateway.joins_records import RejectionCategory


@strawberry.type
class JoinsQuery:
    @guarded(Capability.VIEW_JOIN_CANDIDATES,
             description="Suggested joins of `table1` (with `table2` if given), measured on the warehouse; "
                         "rejected ones stay hidden until their evidence changes.")
    async def join_candidates(self, info: strawberry.Info, table1: str, table2: str | None = None,
                              min_confidence: float = 0.0) -> list[JoinCandidate]:
        ctx = info.context
        found = await ctx.services.joins.candidates(ctx.require_principal(), table1, table2, min_confidence)
        return [JoinCandidate.of(c) for c in found]

    @guarded(Capability.READ_CATALOG, description="Accepted joins (ACTIVE versions unless includeDeprecated).")
    async def joins(self, info: strawberry.Info, table: str | None = None,
                    include_deprecated: bool = False) -> list[Join]:
        ctx = info.context
        found = await ctx.services.joins.list_joins(ctx.require_principal(), table, include_deprecated)
        return [Join.of(j) for j in found]

    @guarded(Capability.READ_CATALOG,
             description="One accepted join: the given version, else the ACTIVE one, else the latest.")
    async def join(self, info: strawberry.Info, id: str, version: int | None = None) -> Join:
        ctx = info.context
        return Join.of(await ctx.services.joins.get_join(ctx.require_principal(), id, version))


@strawberry.type
class JoinsMutation:
    @guarded_mutation(Capability.MANAGE_JOINS,
                      description="Accept a candidate as the next version of the join between its tables; the "
                                  "former ACTIVE version is deprecated. `version`, if given, must be the version "
                                  "this creates (CONFLICT otherwise).")
    async def accept_join(self, info: strawberry.Info, candidate_id: str, rationale: str,
                          version: int | None = None) -> Join:
        ctx = info.context
        return Join.of(await ctx.services.joins.accept(ctx.require_principal(), candidate_id, rationale, version))

    @guarded_mutation(Capability.MANAGE_JOINS,
                      description="Reject a candidate; it is not suggested again unless its evidence changes.")
    async def reject_join_candidate(self, info: strawberry.Info, candidate_id: str, reason: str,
                                    category: RejectionCategory | None = None) -> JoinCandidate:
        ctx = info.context
        return JoinCandidate.of(await ctx.services.joins.reject(
            ctx.require_principal(), candidate_id, reason, category))

    @guarded_mutation(Capability.MANAGE_JOINS, description="ACTIVE → DEPRECATED for an accepted join.")
    async def deprecate_join(self, info: strawberry.Info, join_id: str, reason: str) -> Join:
        ctx = info.context
        return Join.of(await ctx.services.joins.deprecate(ctx.require_principal(), join_id, reason))
