"""The planner's public value types: plain frozen dataclasses the gateway can store and render."""

from __future__ import annotations

from dataclasses import dataclass, field

from planner.capabilities import WAREHOUSES
from planner.capabilities.bounds import DEFAULT_BOUNDS, FunctionBounds
from planner.guardrails.thresholds import DEFAULT_THRESHOLDS, GuardrailThresholds

# Every warehouse with a profile in planner.capabilities (what it runs, by sqlglot dialect).
WAREHOUSE_DIALECTS = WAREHOUSES
# Analysts may write in any of these; anything else is refused before parsing.
ANALYST_DIALECTS = ("sqlite", "postgres", "duckdb", "mysql", "bigquery", "snowflake", "trino", "presto", "spark",
                    "databricks", "redshift", "tsql", "oracle", "clickhouse", "hive")


@dataclass(frozen=True, slots=True)
class Pin:
    table: str
    version: int


@dataclass(frozen=True, slots=True)
class PlanOptions:
    warehouse_dialect: str = "sqlite"
    dialect: str | None = None  # the analyst's dialect; None means the warehouse's
    pins: tuple[Pin, ...] = ()
    may_view_shadow: bool = False
    max_rows: int = 10_000
    max_sql_bytes: int = 65_536
    thresholds: GuardrailThresholds = DEFAULT_THRESHOLDS
    function_bounds: FunctionBounds = DEFAULT_BOUNDS  # what one function call may build

    @property
    def read_dialect(self) -> str:
        return self.dialect or self.warehouse_dialect


@dataclass(frozen=True, slots=True)
class TableUse:
    name: str  # logical name
    version: int
    state: str
    physical_name: str  # only for callers who may see it; the gateway decides what to show
    row_count: int | None
    alias: str | None
    pinned: bool


@dataclass(frozen=True, slots=True)
class JoinUse:
    left_table: str
    right_table: str
    join_type: str  # INNER, LEFT, RIGHT, FULL, CROSS
    condition: str | None  # in the analyst dialect, logical names; None for a join without one
    accepted_join_id: str | None
    accepted_join_version: int | None


@dataclass(frozen=True, slots=True)
class OutputColumn:
    name: str
    type: str | None  # the catalog's type when the column comes from a catalog column; else unknown


@dataclass(frozen=True, slots=True)
class Guardrail:
    type: str  # one of API.md's GuardrailType names
    message: str
    requires_override: bool
    # The characters of the analyst's SQL it is about (a join, a table, an aggregate), half-open;
    # None: the query as a whole (an estimated result size). Editors underline exactly this.
    span: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    original_sql: str
    # What reaches the warehouse: physical names, warehouse dialect, and LIMIT row_cap + 1 (or the
    # analyst's smaller LIMIT): the executor returns at most row_cap rows and reports
    # truncated=True when the extra row came back.
    sql: str
    analyst_sql: str  # the checked query in the analyst's dialect with logical names
    dialect: str
    warehouse_dialect: str
    tables: tuple[TableUse, ...]
    joins: tuple[JoinUse, ...]
    filters: tuple[str, ...]
    aggregations: tuple[str, ...]
    group_by: tuple[str, ...]
    assumptions: tuple[str, ...]
    guardrails: tuple[Guardrail, ...]
    estimated_rows: int | None
    estimated_cost_ms: float | None
    row_cap: int
    columns: tuple[OutputColumn, ...] = ()  # what the query returns, `*` expanded to the version's columns
    # The most rows the outer GROUP BY allows by the catalog's distinct counts; the warehouse's own
    # estimate is capped by it (planner.explain.with_warehouse_estimate).
    estimate_ceiling: int | None = None

    @property
    def requires_override(self) -> tuple[str, ...]:
        """The guardrail types an execution must list in its overrides."""
        return tuple(g.type for g in self.guardrails if g.requires_override)


@dataclass(frozen=True, slots=True)
class Explanation:
    plain_english: str
    tables: tuple[str, ...]
    joins: tuple[str, ...]
    filters: tuple[str, ...]
    aggregations: tuple[str, ...]
    assumptions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Correction:
    """One structured correction; which fields matter depends on ``kind`` (see CORRECTION_KINDS)."""

    kind: str
    join_index: int | None = None
    join_type: str | None = None
    condition: str | None = None
    filter_index: int | None = None
    aggregation_index: int | None = None
    function: str | None = None
    columns: tuple[str, ...] = field(default=())
    limit: int | None = None
    table: str | None = None
    version: int | None = None
