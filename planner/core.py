"""plan(): parse, check, resolve, analyse, guard, rewrite — one pass each; the rewrite works on one copy."""

from __future__ import annotations

from sqlglot import exp
from sqlglot.errors import SqlglotError, UnsupportedError

from planner.analysis import Analysis, analyse
from planner.capabilities import profile
from planner.capabilities.bounds import check_bounds
from planner.catalog import Catalog
from planner.columns import check_columns
from planner.copying import copy_tree
from planner.errors import InvalidSQL, PlannerError, WarehouseUnsupported
from planner.estimate import estimate
from planner.explain import assumptions, group_basis
from planner.guardrails.base import Facts
from planner.guardrails.registry import run_guardrails
from planner.joins import JoinInfo
from planner.locate import locate
from planner.model import ANALYST_DIALECTS, WAREHOUSE_DIALECTS, JoinUse, Plan, PlanOptions, TableUse
from planner.output import output_columns
from planner.parse import parse
from planner.resolve import Resolution, carried_over, resolve
from planner.rewrite import rewrite
from planner.rules.context import RewriteContext
from planner.rules.derived_columns import GENERATOR_WITHOUT_COLUMN_LISTS, name_columns_inside
from planner.rules.row_cap import limit_value
from planner.sqlgen import query_sql, snippet

DEFAULT_OPTIONS = PlanOptions()


def plan(sql: str, catalog: Catalog, options: PlanOptions = DEFAULT_OPTIONS) -> Plan:
    """Plan one read-only query; raises only :class:`planner.errors.PlannerError` subclasses."""
    _check_options(options)
    try:
        return _plan(sql, catalog, options)
    except PlannerError as error:
        raise locate(error, sql, options.read_dialect) from None
    except RecursionError:
        raise InvalidSQL("The query is nested too deeply to check; simplify it.", line=1, column=1) from None
    except UnsupportedError as e:
        # Generation refuses what the warehouse dialect cannot express (unsupported_level=RAISE).
        raise WarehouseUnsupported(f"This query cannot be expressed for {profile(options.warehouse_dialect).name}, "
                                   f"the warehouse of this gateway: {e}", warehouse=options.warehouse_dialect,
                                   feature=str(e)) from None
    except SqlglotError as e:
        raise InvalidSQL(f"This query cannot be expressed for {options.warehouse_dialect}: {e}",
                         line=1, column=1) from None


def _plan(sql: str, catalog: Catalog, options: PlanOptions) -> Plan:
    dialect = options.read_dialect
    tree = parse(sql, dialect, options.max_sql_bytes, options.warehouse_dialect)
    resolution = resolve(tree, catalog, options)
    # The warehouse SQL is rewritten from a pristine copy of the checked tree; the original is
    # read for the preview and generated in the analyst's dialect, and generators may rewrite
    # what they print (T-SQL turns LIMIT into TOP), so the two must not share nodes. copy_tree
    # is sqlglot's copy without deep-copying every node's positions; the copy's table bindings
    # are the original's, carried over node for node rather than resolved a second time.
    warehouse_tree, pairs = copy_tree(tree)
    warehouse_resolution = carried_over(resolution, pairs)
    analysis = analyse(tree, resolution, catalog)
    unknown = check_columns(analysis.scopes)
    if unknown:
        unknown[0].related = tuple(unknown[1:])
        raise unknown[0]
    tables = _table_uses(resolution)
    est = estimate(analysis)
    basis = group_basis(est.groups, dialect)  # rendered before push_column_aliases edits the tree
    guardrails = run_guardrails(Facts(analysis, est, tables, options.thresholds, dialect))
    joins = tuple(_join_use(info, dialect) for info in analysis.joins)
    filters = tuple(snippet(c, dialect) for _, c in analysis.filters)
    aggregations = tuple(snippet(a, dialect) for _, a in analysis.aggregates)
    group_by = tuple(snippet(g, dialect) for g in analysis.group_by)
    analyst_limit = limit_value(tree)
    if dialect in GENERATOR_WITHOUT_COLUMN_LISTS:
        name_columns_inside(tree, resolution, dialect)  # the generator cannot write `AS t(a, b)`
    analyst_sql = query_sql(tree, dialect)
    check_bounds(tree, options.function_bounds)
    ctx = RewriteContext(warehouse_resolution, options)
    warehouse_sql = rewrite(warehouse_tree, ctx)
    cap = options.max_rows
    bound = cap if analyst_limit is None else min(analyst_limit, cap)
    rows = None if est.rows is None else min(est.rows, bound)
    return Plan(
        original_sql=sql, sql=warehouse_sql, analyst_sql=analyst_sql, dialect=dialect,
        warehouse_dialect=options.warehouse_dialect, tables=tables, joins=joins, filters=filters,
        aggregations=aggregations, group_by=group_by,
        assumptions=(*assumptions(tables, analysis.joins, cap, analyst_limit, dialect, options.warehouse_dialect,
                                  basis),
                     *ctx.notes),
        guardrails=guardrails, estimated_rows=rows, estimated_cost_ms=est.cost_ms, row_cap=cap,
        columns=output_columns(analysis, dialect),
        estimate_ceiling=None if est.ceiling is None else min(est.ceiling, bound))


def _check_options(options: PlanOptions) -> None:
    if options.warehouse_dialect not in WAREHOUSE_DIALECTS:
        raise InvalidSQL(f"Unknown warehouse dialect {options.warehouse_dialect!r}; use one of "
                         f"{', '.join(WAREHOUSE_DIALECTS)}.")
    if options.read_dialect not in ANALYST_DIALECTS:
        raise InvalidSQL(f"Unknown SQL dialect {options.read_dialect!r}; use one of {', '.join(ANALYST_DIALECTS)}.")
    if options.max_rows < 1 or options.max_sql_bytes < 1:
        raise InvalidSQL("max_rows and max_sql_bytes must be positive.")


def _table_uses(resolution: Resolution) -> tuple[TableUse, ...]:
    return tuple(
        TableUse(name=b.version.table, version=b.version.version, state=b.version.state,
                 physical_name=b.version.physical_name, row_count=b.version.row_count,
                 alias=b.node.alias or None, pinned=b.pinned)
        for b in resolution.tables)


def _join_use(info: JoinInfo, dialect: str) -> JoinUse:
    return JoinUse(left_table=info.left.label, right_table=info.right.label, join_type=info.join_type,
                   condition=join_condition(info, dialect),
                   accepted_join_id=info.accepted.id if info.accepted else None,
                   accepted_join_version=info.accepted.version if info.accepted else None)


def join_condition(info: JoinInfo, dialect: str) -> str | None:
    if info.node is not None and info.explicit:
        on = info.node.args.get("on")
        if isinstance(on, exp.Expr):
            return snippet(on, dialect)
        if info.using:
            return f"USING ({', '.join(info.using)})"
        return "NATURAL"
    if not info.conjuncts:
        return None
    return " AND ".join(snippet(c, dialect) for c in info.conjuncts)


__all__ = ["Analysis", "plan"]
