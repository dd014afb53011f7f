"""The IDE's language surface: completion and formatting (validation lives with the previews).

Both see the catalog exactly as a preview does: the same snapshot, and the same
:meth:`QueryService.plan_options` deciding what this caller may reach (no SHADOW table for an
ANALYST, in a completion list or anywhere else).
"""

from __future__ import annotations

import asyncio

from gateway.domain import Capability
from gateway.records import Principal
from gateway.services.access import require
from gateway.services.catalog import CatalogService
from gateway.services.queries import INLINE_PLANNING_LIMIT, QueryService
from planner.complete import Completion, complete
from planner.formatting import format_sql


class LanguageService:
    def __init__(self, catalog: CatalogService, queries: QueryService) -> None:
        self._catalog = catalog
        self._queries = queries

    async def complete(self, principal: Principal, sql: str, line: int, column: int,
                       dialect: str | None = None) -> Completion:
        require(principal, Capability.QUERY)
        options = self._queries.plan_options(principal, dialect)
        snapshot, _ = await self._catalog.snapshot_or_stale()
        return complete(sql, line, column, snapshot, options)

    async def format(self, principal: Principal, sql: str, dialect: str | None = None) -> str:
        require(principal, Capability.QUERY)
        options = self._queries.plan_options(principal, dialect)
        if len(sql) > INLINE_PLANNING_LIMIT:
            return await asyncio.to_thread(format_sql, sql, options.read_dialect)
        return format_sql(sql, options.read_dialect)
