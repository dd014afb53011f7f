"""Contract, ingestion, replay and backfill fields. Resolvers translate, call one service, convert."""

from __future__ import annotations

from dataclasses import asdict

import strawberry
from strawberry.scalars import JSON

from gateway.domain import Capability
from gateway.graphql.contracts_visibility import HIDDEN_MARK
from gateway.graphql.directives import guarded, guarded_mutation
from gateway.graphql.types.contracts import (
    BackfillInput,
    Contract,
    IngestionResult,
    IngestionRun,
    OperationPreview,
    OperationResult,
    QuarantinedRecord,
    RegisterContractInput,
    ReplayInput,
)


@strawberry.type
class ContractsQuery:
    @guarded(Capability.READ_CATALOG, description="Data contracts whose table versions you may see.")
    async def contracts(self, info: strawberry.Info) -> list[Contract]:
        ctx = info.context
        return [Contract.of(v) for v in await ctx.services.contracts.list(ctx.require_principal())]

    @guarded(Capability.READ_CATALOG, description="One contract (its id is its table's name).")
    async def contract(self, info: strawberry.Info, id: str) -> Contract:
        ctx = info.context
        return Contract.of(await ctx.services.contracts.get(ctx.require_principal(), id))

    @guarded(Capability.VIEW_INGESTION, description="Ingestion, replay and backfill runs, newest first.",
             metadata={HIDDEN_MARK: True})
    async def ingestion_runs(self, info: strawberry.Info, contract_id: str, first: int = 50) -> list[IngestionRun]:
        ctx = info.context
        runs = await ctx.services.ingestion.runs(ctx.require_principal(), contract_id, first)
        return [IngestionRun.of(r) for r in runs]

    @guarded(Capability.VIEW_INGESTION, description="Records refused by validation, with their reasons.",
             metadata={HIDDEN_MARK: True})
    async def quarantine(self, info: strawberry.Info, contract_id: str, run_id: str | None = None,
                         first: int = 100) -> list[QuarantinedRecord]:
        ctx = info.context
        rows = await ctx.services.ingestion.quarantine(ctx.require_principal(), contract_id, run_id, first)
        return [QuarantinedRecord.of(q) for q in rows]


@strawberry.type
class ContractsMutation:
    @guarded_mutation(Capability.CREATE_CONTRACT,
                      description="Validate a contract and create the next table version as SHADOW.")
    async def register_contract(self, info: strawberry.Info, input: RegisterContractInput) -> Contract:
        ctx = info.context
        data = asdict(input)  # type: ignore[call-overload]
        data["semantics"] = data.pop("ingestion_semantics") or {}
        return Contract.of(await ctx.services.contracts.register(ctx.require_principal(), data))

    @guarded_mutation(Capability.INGEST, description="Validate and apply records; bad ones are quarantined.")
    async def ingest(self, info: strawberry.Info, contract_id: str, records: list[JSON]) -> IngestionResult:
        ctx = info.context
        return IngestionResult.of(await ctx.services.ingestion.ingest(ctx.require_principal(), contract_id,
                                                                      list(records)))

    @guarded_mutation(Capability.REPLAY, description="Dry run of re-applying landing-log records of a time range.")
    async def replay(self, info: strawberry.Info, input: ReplayInput) -> OperationPreview:
        ctx = info.context
        return OperationPreview.of(await ctx.services.replay.replay(
            ctx.require_principal(), input.contract_id, input.time_range.start, input.time_range.end,
            input.dedupe_strategy.value, preview_rows=input.preview_rows))

    @guarded_mutation(Capability.REPLAY, description="Dry run of loading a file under the archive, or a table.")
    async def backfill(self, info: strawberry.Info, input: BackfillInput) -> OperationPreview:
        ctx = info.context
        return OperationPreview.of(await ctx.services.replay.backfill(
            ctx.require_principal(), input.contract_id, start=input.time_range.start, end=input.time_range.end,
            dedupe_strategy=input.dedupe_strategy.value, path=input.source.path,
            format=input.source.format.value if input.source.format else None, table=input.source.table,
            batch_size=input.batch_size, preview_rows=input.preview_rows))

    @guarded_mutation(Capability.REPLAY, description="Carry out (or resume) a replay or backfill whose dry run was seen.")
    async def confirm_operation(self, info: strawberry.Info, operation_id: str) -> OperationResult:
        ctx = info.context
        return OperationResult.of(await ctx.services.replay.confirm(ctx.require_principal(), operation_id))
