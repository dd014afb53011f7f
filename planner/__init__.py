"""Spyne planner: pure SQL planning over a catalog snapshot (sqlglot + stdlib only).

    plan(sql, catalog, options) -> Plan          checks, resolves, guards and rewrites one query
    explain(plan) -> Explanation                 the plain-English account of a plan
    apply_corrections(plan, corrections, options) -> (analyst SQL, options)   then re-plan
    PlanCache                                    LRU of plans, keyed with the catalog epoch
    build_structured(query, catalog, options) -> SQL   a structured query joined over accepted joins
    plan_structured(query, catalog, options) -> Plan   the same, then planned
    with_row_cap(plan, max_rows) -> SQL                the plan's warehouse SQL under another row cap (downloads)
    with_warehouse_estimate(plan, rows) -> Plan        the warehouse's EXPLAIN estimate in place of the catalog's

Every failure is a :class:`planner.errors.PlannerError` carrying an API.md error code.
"""

from planner.cache import PlanCache
from planner.capabilities.bounds import FunctionBounds
from planner.catalog import AcceptedJoin, Catalog, CatalogSnapshot, Column, LogicalTable, TableVersion
from planner.core import plan
from planner.corrections import CORRECTION_KINDS, apply_corrections
from planner.errors import (
    ForbiddenFunction,
    FunctionLimit,
    InvalidCorrection,
    InvalidSQL,
    NotAQuery,
    PlannerError,
    TableNotFound,
    TableNotQueryable,
    WarehouseLimit,
    WarehouseUnsupported,
)
from planner.explain import explain, with_warehouse_estimate
from planner.guardrails.thresholds import GuardrailThresholds
from planner.model import (
    ANALYST_DIALECTS,
    WAREHOUSE_DIALECTS,
    Correction,
    Explanation,
    Guardrail,
    JoinUse,
    OutputColumn,
    Pin,
    Plan,
    PlanOptions,
    TableUse,
)
from planner.rules.row_cap import with_row_cap
from planner.structured import (
    AmbiguousJoinPath,
    InvalidStructuredQuery,
    NoJoinPath,
    StructuredQuery,
    build_structured,
    plan_structured,
)

GUARDRAIL_TYPES = ("EXPLOSIVE_JOIN", "CARTESIAN_PRODUCT", "AMBIGUOUS_AGGREGATE", "FAN_TRAP",
                   "MISSING_FILTER_LARGE_TABLE", "UNVERIFIED_JOIN", "DEPRECATED_TABLE")

__all__ = [
    "ANALYST_DIALECTS",
    "CORRECTION_KINDS",
    "GUARDRAIL_TYPES",
    "WAREHOUSE_DIALECTS",
    "AcceptedJoin",
    "AmbiguousJoinPath",
    "Catalog",
    "CatalogSnapshot",
    "Column",
    "Correction",
    "Explanation",
    "ForbiddenFunction",
    "FunctionBounds",
    "FunctionLimit",
    "Guardrail",
    "GuardrailThresholds",
    "InvalidCorrection",
    "InvalidSQL",
    "InvalidStructuredQuery",
    "JoinUse",
    "LogicalTable",
    "NoJoinPath",
    "NotAQuery",
    "OutputColumn",
    "Pin",
    "Plan",
    "PlanCache",
    "PlanOptions",
    "PlannerError",
    "StructuredQuery",
    "TableNotFound",
    "TableNotQueryable",
    "TableUse",
    "TableVersion",
    "WarehouseLimit",
    "WarehouseUnsupported",
    "apply_corrections",
    "build_structured",
    "explain",
    "plan",
    "plan_structured",
    "with_row_cap",
    "with_warehouse_estimate",
]
