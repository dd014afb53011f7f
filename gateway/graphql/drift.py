"""Drift fields. Resolvers translate arguments, call one service, convert."""

from __future__ import annotations

import strawberry

from gateway.domain import Capability
from gateway.errors import InvalidInput
from gateway.graphql.directives import guarded, guarded_mutation
from gateway.graphql.types.drift import (
    ColumnInput,
    CompatibilityResult,
    ContractDiffResult,
    DriftReport,
)
from planner.drift import DriftSeverity


def _report_id(value: strawberry.ID) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise InvalidInput(f"{value!r} is not a drift report id; `driftReports` lists them.") from None


@strawberry.type
class DriftQuery:
    @guarded(Capability.READ_CATALOG,
             description="Stored drift reports, newest first; SHADOW versions only for ENGINEER and up.")
    async def drift_reports(self, info: strawberry.Info, table: str | None = None,
                            contract_id: str | None = None, severity: DriftSeverity | None = None,
                            unresolved_only: bool = False, first: int = 100) -> list[DriftReport]:
        ctx = info.context
        found = await ctx.services.drift.reports(
            ctx.require_principal(), table=table, contract_id=contract_id, severity=severity,
            unresolved_only=unresolved_only, first=first)
        return [DriftReport.of(r) for r in found]

    @guarded(Capability.READ_CATALOG,
             description="The changes between two versions of a contract, with a migration guide.")
    async def contract_diff(self, info: strawberry.Info, contract_id: str, from_version: int,
                            to_version: int) -> ContractDiffResult:
        ctx = info.context
        return ContractDiffResult.of(await ctx.services.drift.contract_diff(
            ctx.require_principal(), contract_id, from_version, to_version))

    @guarded(Capability.CHECK_COMPATIBILITY,
             description="Dry run: what registering these columns as the contract's next version "
                         "would change, against every version still in use. Stores nothing.")
    async def check_compatibility(self, info: strawberry.Info, contract_id: str,
                                  columns: list[ColumnInput],
                                  dialect: str | None = None) -> CompatibilityResult:
        ctx = info.context
        return CompatibilityResult.of(await ctx.services.drift.check_compatibility(
            ctx.require_principal(), contract_id, [c.spec(i) for i, c in enumerate(columns)], dialect))

    @guarded(Capability.CHECK_COMPATIBILITY,
             description="Dry run for a table without a contract: these columns against every "
                         "version still in use (types in the warehouse's dialect unless given).")
    async def check_table_compatibility(self, info: strawberry.Info, table: str,
                                        columns: list[ColumnInput],
                                        dialect: str | None = None) -> CompatibilityResult:
        ctx = info.context
        return CompatibilityResult.of(await ctx.services.drift.check_table_compatibility(
            ctx.require_principal(), table, [c.spec(i) for i, c in enumerate(columns)], dialect))


@strawberry.type
class DriftMutation:
    @guarded_mutation(Capability.REFRESH_SCHEMA,
                      description="Re-introspect the version a query resolves to, record its schema "
                                  "version, and return the drift report (stored when anything changed).")
    async def refresh_schema(self, info: strawberry.Info, table: str) -> DriftReport:
        ctx = info.context
        return DriftReport.of(await ctx.services.drift.refresh_schema(ctx.require_principal(), table))

    @guarded_mutation(Capability.RESOLVE_DRIFT, description="Mark a drift report as dealt with.")
    async def resolve_drift(self, info: strawberry.Info, report_id: strawberry.ID,
                            note: str | None = None) -> DriftReport:
        ctx = info.context
        return DriftReport.of(await ctx.services.drift.resolve(
            ctx.require_principal(), _report_id(report_id), note))
