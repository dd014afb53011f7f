"""The rewrite pipeline: RULES applied in order to the checked tree, then generated for the warehouse.

Like sqlglot's optimizer, each rule is one module with one pure-ish function of the same name
(it may mutate the tree it was given, which the planner owns, to avoid copying).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from planner.rules.comma_joins import comma_joins
from planner.rules.context import RewriteContext
from planner.rules.derived_columns import derived_columns
from planner.rules.physical_tables import physical_tables
from planner.rules.portable_functions import portable_functions
from planner.rules.row_cap import row_cap
from planner.rules.same_meaning import same_meaning
from planner.rules.sqlite_dates import sqlite_dates
from planner.rules.target_syntax import target_syntax
from planner.rules.warehouse_limits import check_statement_size, warehouse_limits
from planner.sqlgen import query_sql

Rule = Callable[[exp.Expr, RewriteContext], exp.Expr]

RULES: tuple[Rule, ...] = (
    physical_tables,
    comma_joins,
    derived_columns,
    same_meaning,
    portable_functions,
    sqlite_dates,
    row_cap,
    target_syntax,
    warehouse_limits,
)


def rewrite(tree: exp.Expr, ctx: RewriteContext) -> str:
    for rule in RULES:
        tree = rule(tree, ctx)
    # Comments are dropped: they carry nothing the warehouse needs, and a comment is text the
    # analyst controls end to end. Unsupported constructs raise instead of degrading silently.
    sql = query_sql(tree, ctx.warehouse)
    check_statement_size(sql, ctx.warehouse)
    return sql
