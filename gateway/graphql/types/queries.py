"""GraphQL types of the query trust layer."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from gateway.graphql.enums import TableState
from gateway.graphql.types.language import Diagnostic
from gateway.services.downloads import download_path
from gateway.services.queries import Preview
from gateway.services.queries import QueryResult as ResultRecord
from planner import Explanation, PlannerError
from planner import Guardrail as GuardrailRecord


@strawberry.enum
class GuardrailType(enum.Enum):
    """API.md's names; a test pins them to the planner's ``GUARDRAIL_TYPES``."""

    EXPLOSIVE_JOIN = "EXPLOSIVE_JOIN"
    CARTESIAN_PRODUCT = "CARTESIAN_PRODUCT"
    AMBIGUOUS_AGGREGATE = "AMBIGUOUS_AGGREGATE"
    FAN_TRAP = "FAN_TRAP"
    MISSING_FILTER_LARGE_TABLE = "MISSING_FILTER_LARGE_TABLE"
    UNVERIFIED_JOIN = "UNVERIFIED_JOIN"
    DEPRECATED_TABLE = "DEPRECATED_TABLE"


@strawberry.enum
class CorrectionKind(enum.Enum):
    """The planner's ``CORRECTION_KINDS``; a test pins the two together."""

    SET_JOIN_TYPE = "SET_JOIN_TYPE"
    ADD_FILTER = "ADD_FILTER"
    REMOVE_FILTER = "REMOVE_FILTER"
    SET_AGGREGATION = "SET_AGGREGATION"
    SET_GROUP_BY = "SET_GROUP_BY"
    SET_LIMIT = "SET_LIMIT"
    PIN_VERSION = "PIN_VERSION"



@strawberry.type
class TableUsed:
    name: str
    version: int
    state: TableState
    physical_name: str | None = strawberry.field(description="Only shown to roles that may see this version.")
    row_count: int | None
    alias: str | None
    pinned: bool


@strawberry.type
class JoinUsed:
    join_id: str | None
    version: int | None
    join_type: str
    condition: str | None
    accepted: bool
    left_table: str
    right_table: str


@strawberry.type(description="A column the query returns; `*` is listed as the resolved version's columns.")
class PreviewColumn:
    name: str
    type: str | None = strawberry.field(description="The catalog's type for a catalog column; null for an expression.")


@strawberry.type
class GuardrailFinding:
    type: GuardrailType
    message: str
    requires_override: bool

    @classmethod
    def of(cls, g: GuardrailRecord) -> GuardrailFinding:
        return cls(type=GuardrailType[g.type], message=g.message, requires_override=g.requires_override)


@strawberry.type
class QueryPreview:
    id: strawberry.ID
    sql: str
    original_sql: str
    analyst_sql: str
    dialect: str
    tables_used: list[TableUsed]
    columns: list[PreviewColumn]
    joins: list[JoinUsed]
    filters: list[str]
    aggregations: list[str]
    group_by: list[str]
    assumptions: list[str]
    estimated_rows: int | None
    estimated_cost_ms: float | None
    row_cap: int
    guardrails: list[GuardrailFinding]
    requires_confirmation: bool
    parent_id: strawberry.ID | None
    created_at: datetime
    expires_at: datetime
    stored: bool = strawberry.field(description="False only while the catalog is down: not executable.")
    catalog_stale: bool = strawberry.field(description="Planned from the last catalog snapshot (catalog down).")

    @classmethod
    def of(cls, p: Preview) -> QueryPreview:
        plan = p.plan
        return cls(
            id=strawberry.ID(p.id), sql=plan.sql, original_sql=plan.original_sql, analyst_sql=plan.analyst_sql,
            dialect=plan.dialect,
            tables_used=[TableUsed(name=t.name, version=t.version, state=TableState(t.state),
                                   physical_name=t.physical_name if t.name in p.shows_physical else None,
                                   row_count=t.row_count, alias=t.alias, pinned=t.pinned) for t in plan.tables],
            columns=[PreviewColumn(name=c.name, type=c.type) for c in plan.columns],
            joins=[JoinUsed(join_id=j.accepted_join_id, version=j.accepted_join_version, join_type=j.join_type,
                            condition=j.condition, accepted=j.accepted_join_id is not None,
                            left_table=j.left_table, right_table=j.right_table) for j in plan.joins],
            filters=list(plan.filters), aggregations=list(plan.aggregations), group_by=list(plan.group_by),
            assumptions=list(plan.assumptions), estimated_rows=plan.estimated_rows,
            estimated_cost_ms=plan.estimated_cost_ms, row_cap=plan.row_cap,
            guardrails=[GuardrailFinding.of(g) for g in plan.guardrails],
            requires_confirmation=p.requires_confirmation,
            parent_id=strawberry.ID(p.parent_id) if p.parent_id else None,
            created_at=p.created_at, expires_at=p.expires_at, stored=p.stored, catalog_stale=p.catalog_stale)


@strawberry.type
class ResultColumn:
    name: str
    type: str


@strawberry.type
class QueryExplanation:
    plain_english: str
    tables_used: list[str]
    joins: list[str]
    filters: list[str]
    aggregations: list[str]
    assumptions: list[str]

    @classmethod
    def of(cls, e: Explanation) -> QueryExplanation:
        return cls(plain_english=e.plain_english, tables_used=list(e.tables), joins=list(e.joins),
                   filters=list(e.filters), aggregations=list(e.aggregations), assumptions=list(e.assumptions))


@strawberry.type
class QueryResult:
    execution_id: strawberry.ID
    preview_id: strawberry.ID
    columns: list[ResultColumn]
    rows: JSON = strawberry.field(description="One JSON value: an array of row arrays, in column order.")
    row_count: int
    truncated: bool
    elapsed_ms: float
    explanation: QueryExplanation
    has_more: bool = strawberry.field(
        description="More rows exist than `rows` holds (the interactive row cap): download them all from "
                    "`downloadUrl`.")
    download_url: str = strawberry.field(
        description="Where the full result streams from: POST it with the same token and an Accept of "
                    "application/vnd.apache.arrow.stream, text/csv or application/x-ndjson (a path on this server).")

    @classmethod
    def of(cls, r: ResultRecord) -> QueryResult:
        return cls(execution_id=strawberry.ID(str(r.execution_id)), preview_id=strawberry.ID(r.preview_id),
                   columns=[ResultColumn(name=n, type=t) for n, t in r.columns],
                   rows=r.rows,  # type: ignore[arg-type]
                   row_count=r.row_count, truncated=r.truncated, elapsed_ms=r.elapsed_ms,
                   explanation=QueryExplanation.of(r.explanation), has_more=r.truncated,
                   download_url=download_path(r.preview_id))


@strawberry.type
class ValidationIssue:
    code: str
    message: str
    line: int | None
    column: int | None

    @classmethod
    def of(cls, e: PlannerError) -> ValidationIssue:
        return cls(code=e.code, message=e.message, line=e.extensions.get("line"),
                   column=e.extensions.get("column"))


@strawberry.type
class QueryValidation:
    valid: bool
    warnings: list[GuardrailFinding]
    errors: list[ValidationIssue]
    diagnostics: list[Diagnostic] = strawberry.field(
        description="Every problem at its exact range, with quick fixes: refusals as ERROR, guardrails as WARNING.")


@strawberry.input
class PinInput:
    table: str
    version: int


@strawberry.input(description="Either `sql`, or a structured query: `select` (with `where`, `groupBy`, `orderBy`, "
                               "`limit`, `via`) whose tables are joined over accepted joins.")
class PreviewQueryInput:
    sql: str | None = None
    dialect: str | None = None
    pins: list[PinInput] = strawberry.field(default_factory=list)
    select: list[str] | None = strawberry.field(
        default=None, description="Structured query: columns as `table.column`, or aggregates such as "
                                  "`SUM(orders.total) AS revenue` or `COUNT(*)`.")
    where: list[str] | None = strawberry.field(default=None, description="Conditions, AND-ed.")
    group_by: list[str] | None = strawberry.field(default=None, description="Columns or expressions.")
    order_by: list[str] | None = strawberry.field(
        default=None, description="Columns, expressions or select aliases, each with an optional ASC or DESC.")
    limit: int | None = None
    via: list[str] | None = strawberry.field(
        default=None, description="Tables the join path must pass through: settles an ambiguous path.")


@strawberry.input
class SkipPreviewInput:
    sql: str
    reason: str = strawberry.field(description="Why this automation runs without a stored preview; audited.")
    dialect: str | None = None
    pins: list[PinInput] = strawberry.field(default_factory=list)


@strawberry.input
class CorrectionInput:
    kind: CorrectionKind
    join_index: int | None = None
    join_type: str | None = None
    condition: str | None = None
    filter_index: int | None = None
    aggregation_index: int | None = None
    function: str | None = None
    columns: list[str] | None = None
    limit: int | None = None
    table: str | None = None
    version: int | None = None
