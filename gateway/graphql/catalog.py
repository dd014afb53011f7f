"""Catalog and lifecycle fields. Resolvers translate arguments, call one service, convert."""

from __future__ import annotations

import strawberry

from gateway.domain import Capability
from gateway.graphql.directives import guarded, guarded_mutation
from gateway.graphql.enums import TableState
from gateway.graphql.types.catalog import (
    LifecycleResult,
    PageInfo,
    RegisterTableInput,
    Table,
    TableConnection,
    TableEdge,
)
from gateway.services.catalog import encode_cursor


@strawberry.type
class CatalogQuery:
    @guarded(Capability.READ_CATALOG, description="Logical tables you may see, a page at a time.")
    async def tables(self, info: strawberry.Info, state: TableState | None = None,
                     search: str | None = None, include_deprecated: bool = False, first: int = 50,
                     after: str | None = None) -> TableConnection:
        ctx = info.context
        page = await ctx.services.catalog.list_tables(
            ctx.require_principal(), state=state, search=search,
            include_deprecated=include_deprecated, first=first, after=after)
        nodes = [Table.of(v) for v in page.tables]
        return TableConnection(
            edges=[TableEdge(cursor=encode_cursor(n.name), node=n) for n in nodes], nodes=nodes,
            page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor),
            total_count=page.total)

    @guarded(Capability.READ_CATALOG, description="One logical table, with its versions and history.")
    async def table(self, info: strawberry.Info, name: str) -> Table:
        ctx = info.context
        return Table.of(await ctx.services.catalog.get_table(ctx.require_principal(), name))


@strawberry.type
class CatalogMutation:
    @guarded_mutation(Capability.REGISTER_TABLE,
                      description="Register an external warehouse table as READ_ONLY, by introspection.")
    async def register_table(self, info: strawberry.Info, input: RegisterTableInput) -> Table:
        ctx = info.context
        view = await ctx.services.catalog.register_table(
            ctx.require_principal(), input.name, input.physical_name, input.description)
        return Table.of(view)

    @guarded_mutation(Capability.PROMOTE,
                      description="SHADOW → ACTIVE; the former ACTIVE version becomes DEPRECATED atomically.")
    async def promote_table(self, info: strawberry.Info, table: str, version: int, dry_run: bool = False,
                            acknowledge_warnings: bool = False) -> LifecycleResult:
        ctx = info.context
        return LifecycleResult.of(await ctx.services.lifecycle.promote(
            ctx.require_principal(), table, version, dry_run=dry_run,
            acknowledge_warnings=acknowledge_warnings))

    @guarded_mutation(Capability.DEPRECATE, description="ACTIVE → DEPRECATED.")
    async def deprecate_table(self, info: strawberry.Info, table: str, version: int,
                              reason: str | None = None) -> LifecycleResult:
        ctx = info.context
        return LifecycleResult.of(await ctx.services.lifecycle.deprecate(
            ctx.require_principal(), table, version, reason))

    @guarded_mutation(Capability.DEPRECATE, description="DEPRECATED → ACTIVE (the current ACTIVE one is deprecated).")
    async def restore_table(self, info: strawberry.Info, table: str, version: int) -> LifecycleResult:
        ctx = info.context
        return LifecycleResult.of(await ctx.services.lifecycle.restore(ctx.require_principal(), table, version))

    @guarded_mutation(Capability.PROMOTE, description="Undo the last promotion of a table, within 24 hours.")
    async def rollback_promotion(self, info: strawberry.Info, table: str) -> LifecycleResult:
        ctx = info.context
        return LifecycleResult.of(await ctx.services.lifecycle.rollback(ctx.require_principal(), table))
