"""Preview, validate, correct and execute queries."""

from __future__ import annotations

import strawberry

from gateway.domain import Capability
from gateway.errors import InvalidInput
from gateway.graphql.directives import guarded, guarded_mutation
from gateway.graphql.types.language import Diagnostic
from gateway.graphql.types.queries import (
    CorrectionInput,
    GuardrailFinding,
    GuardrailType,
    PinInput,
    PreviewQueryInput,
    QueryPreview,
    QueryResult,
    QueryValidation,
    SkipPreviewInput,
    ValidationIssue,
)
from planner import Correction, Pin, StructuredQuery


def _pins(pins: list[PinInput] | None) -> tuple[Pin, ...]:
    return tuple(Pin(p.table, p.version) for p in pins or ())


def _structured(i: PreviewQueryInput) -> StructuredQuery | None:
    """The structured part of the input; None when none of its fields is given (then `sql` must be)."""
    parts = (i.select, i.where, i.group_by, i.order_by, i.via)
    if all(p is None for p in parts) and i.limit is None:
        return None
    return StructuredQuery(select=tuple(i.select or ()), where=tuple(i.where or ()), group_by=tuple(i.group_by or ()),
                           order_by=tuple(i.order_by or ()), limit=i.limit, via=tuple(i.via or ()))


@strawberry.type
class QueriesQuery:
    @guarded(Capability.QUERY, description="Check a query's SQL and guardrails; stores nothing.")
    async def validate_query(self, info: strawberry.Info, sql: str, dialect: str | None = None) -> QueryValidation:
        ctx = info.context
        result = await ctx.services.queries.validate(ctx.require_principal(), sql, dialect)
        return QueryValidation(valid=result.valid,
                               warnings=[GuardrailFinding.of(g) for g in result.warnings],  # type: ignore[arg-type]
                               errors=[ValidationIssue.of(e) for e in result.errors],
                               diagnostics=[Diagnostic.of(d) for d in result.diagnostics])

    @guarded(Capability.QUERY, description="A stored preview: its author's, or any for an admin.")
    async def query_preview(self, info: strawberry.Info, id: strawberry.ID) -> QueryPreview:
        ctx = info.context
        return QueryPreview.of(await ctx.services.queries.get_preview(ctx.require_principal(), str(id)))


@strawberry.type
class QueriesMutation:
    @guarded_mutation(Capability.QUERY, description="Plan a query, store the preview, and show it.")
    async def preview_query(self, info: strawberry.Info, input: PreviewQueryInput) -> QueryPreview:
        ctx = info.context
        queries = ctx.services.queries
        structured = _structured(input)
        if (input.sql is None) == (structured is None):
            raise InvalidInput("Give either `sql` or a structured query (`select` with optional `where`, `groupBy`, "
                               "`orderBy`, `limit`, `via`), not both.")
        if structured is not None:
            return QueryPreview.of(await queries.preview_structured(
                ctx.require_principal(), structured, dialect=input.dialect, pins=_pins(input.pins)))
        assert input.sql is not None
        return QueryPreview.of(await queries.preview(ctx.require_principal(), input.sql, dialect=input.dialect,
                                                     pins=_pins(input.pins)))

    @guarded_mutation(Capability.QUERY,
                      description="Run exactly a stored preview (or, for automation, skipPreview with a reason).")
    async def execute_query(self, info: strawberry.Info, preview_id: strawberry.ID | None = None,
                            overrides: list[GuardrailType] | None = None,
                            skip_preview: SkipPreviewInput | None = None) -> QueryResult:
        ctx = info.context
        names = [o.value for o in overrides or ()]
        queries = ctx.services.queries
        if (preview_id is None) == (skip_preview is None):
            raise InvalidInput("Give either previewId or skipPreview (with a reason), not both.")
        if preview_id is not None:
            return QueryResult.of(await queries.execute(ctx.require_principal(), str(preview_id), names))
        assert skip_preview is not None
        return QueryResult.of(await queries.execute_without_preview(
            ctx.require_principal(), skip_preview.sql, skip_preview.reason, dialect=skip_preview.dialect,
            pins=_pins(skip_preview.pins), overrides=names))

    @guarded_mutation(Capability.CORRECT_QUERY, description="Apply structured corrections; returns a new preview.")
    async def correct_query(self, info: strawberry.Info, preview_id: strawberry.ID,
                            corrections: list[CorrectionInput]) -> QueryPreview:
        ctx = info.context
        parsed = [Correction(kind=c.kind.value, join_index=c.join_index, join_type=c.join_type,
                             condition=c.condition, filter_index=c.filter_index,
                             aggregation_index=c.aggregation_index, function=c.function,
                             columns=tuple(c.columns or ()), limit=c.limit, table=c.table, version=c.version)
                  for c in corrections]
        return QueryPreview.of(await ctx.services.queries.correct(ctx.require_principal(), str(preview_id), parsed))
