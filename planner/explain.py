"""What the preview shows, in plain words: assumptions while planning, and explain(plan) after."""

from __future__ import annotations

from dataclasses import replace

from sqlglot import exp

from planner.catalog import EXACT_STATS, READ_ONLY
from planner.estimate import FILTER_SELECTIVITY, GROUP_REDUCTION, GroupCount
from planner.joins import JoinInfo
from planner.model import Explanation, JoinUse, Plan, TableUse
from planner.sqlgen import snippet

_STATE_WORDS = {READ_ONLY: "READ_ONLY, registered from the warehouse"}
# What every estimate rests on; with_warehouse_estimate says so instead when the warehouse's replaces it.
ROW_COUNT_BASIS = "estimates come from catalog row counts"
_STATS_WORDS = {EXACT_STATS: "counted exactly"}


def assumptions(tables: tuple[TableUse, ...], joins: list[JoinInfo], row_cap: int, analyst_limit: int | None,
                dialect: str, warehouse: str, estimate_basis: tuple[str, ...] = ()) -> tuple[str, ...]:
    said: list[str] = []
    seen: set[tuple[str, int]] = set()
    for use in tables:
        if (use.name, use.version) in seen:
            continue
        seen.add((use.name, use.version))
        how = "is pinned to" if use.pinned else "resolves to"
        said.append(f"{use.name} {how} v{use.version} ({_STATE_WORDS.get(use.state, use.state)})")
    for info in joins:
        left, right = info.left.label, info.right.label
        if info.join_type == "INNER" and info.linked:
            said.append(f"INNER JOIN drops {left} rows without a matching {right} row, and the reverse")
        elif info.join_type == "LEFT":
            said.append(f"LEFT JOIN keeps every {left} row; {right} columns are NULL where nothing matches")
        elif info.join_type == "RIGHT":
            said.append(f"RIGHT JOIN keeps every {right} row; {left} columns are NULL where nothing matches")
        elif info.join_type == "FULL":
            said.append(f"FULL JOIN keeps unmatched rows of both {left} and {right}")
    # The SQL to run asks for one row over the cap (LIMIT cap + 1): say why, or it reads as a contradiction.
    over = f"the SQL asks for {row_cap + 1:,} only to tell whether there were more"
    if analyst_limit is not None and analyst_limit <= row_cap:
        said.append(f"your LIMIT {analyst_limit:,} is within the row cap of {row_cap:,} rows")
    elif analyst_limit is not None:
        said.append(f"your LIMIT {analyst_limit:,} is over the row cap: at most {row_cap:,} rows come back; {over}")
    else:
        said.append(f"at most {row_cap:,} rows come back (the row cap); {over}")
    if dialect != warehouse:
        said.append(f"written in {dialect}, run on {warehouse}")
    said.append(ROW_COUNT_BASIS)
    said.extend(estimate_basis)
    return tuple(dict.fromkeys(said))


def group_basis(groups: tuple[GroupCount, ...], dialect: str) -> tuple[str, ...]:
    """Where each GROUP BY's estimate came from, in words: the catalog's distinct counts (and how
    they were measured), or why there were none and the fixed reduction was assumed."""
    return tuple(_group_words(g, dialect) for g in groups)


def _group_words(group: GroupCount, dialect: str) -> str:
    keys = ", ".join(snippet(k, dialect) for k in group.keys)
    head = f"GROUP BY {keys}" if keys else "the grouping"
    if group.groups is None:
        missing = group.missing
        if isinstance(missing, exp.Group):
            why = "grouping sets have no distinct count"
        elif isinstance(missing, exp.Column):
            why = f"the catalog has no distinct count of {snippet(missing, dialect)}"
        else:
            why = f"an expression ({snippet(missing, dialect) if missing is not None else '?'}) has no distinct count"
        said = f"{head} is estimated at {GROUP_REDUCTION:.0%} of its {_n(group.input_rows)} rows: {why}"
    else:
        counts = ", ".join(f"{c.column} {c.distinct:,}" + (" + NULL" if c.nullable else "") for c in group.counts)
        how = " and ".join(dict.fromkeys(_STATS_WORDS.get(c.stats, "estimated from a sample") for c in group.counts))
        said = (f"{head} is estimated at {_n(min(group.groups, group.input_rows))} groups from the catalog's "
                f"distinct counts ({counts}; {how})")
        if group.groups > group.input_rows:
            said += f", no more than the {_n(group.input_rows)} rows it groups"
    if group.having:
        said += f"; each HAVING condition keeps about {FILTER_SELECTIVITY:.0%} of the groups"
    return said


def with_warehouse_estimate(plan: Plan, rows: int) -> Plan:
    """The warehouse's own row estimate (its EXPLAIN) in place of the catalog's, the preview saying
    so. An outer GROUP BY whose distinct counts the catalog has caps it: a warehouse without
    statistics of its own guesses the groups (PostgreSQL assumes 200 before ANALYZE)."""
    ceiling = plan.estimate_ceiling
    if ceiling is not None and ceiling < rows:
        said = (f"the row estimate is the warehouse's EXPLAIN ({rows:,} rows), capped at {ceiling:,} by the "
                "catalog's distinct counts of the GROUP BY columns")
        rows = ceiling
    else:
        said = "the row estimate is the warehouse's own (EXPLAIN); the cost comes from catalog row counts"
    said_now = tuple(said if a == ROW_COUNT_BASIS else a for a in plan.assumptions)
    return replace(plan, estimated_rows=rows, assumptions=said_now)


def _n(value: float) -> str:
    return f"{max(round(value), 1):,}"


def explain(plan: Plan) -> Explanation:
    tables = tuple(dict.fromkeys(f"{t.name} v{t.version} ({t.state})" for t in plan.tables))
    joins = tuple(_join(j) for j in plan.joins)
    parts = [f"Reads {_and(tables) if tables else 'no tables'}"]
    if joins:
        parts.append(f"joined {_and(joins)}")
    if plan.filters:
        parts.append(f"keeping rows where {_and(plan.filters)}")
    if plan.aggregations:
        grouped = f" per {_and(plan.group_by)}" if plan.group_by else ""
        parts.append(f"computing {_and(tuple(dict.fromkeys(plan.aggregations)))}{grouped}")
    elif plan.group_by:
        parts.append(f"grouped by {_and(plan.group_by)}")
    parts.append(f"and returns at most {plan.row_cap:,} rows")
    sentence = ", ".join(parts[:-1]) + " " + parts[-1] + "."
    return Explanation(plain_english=sentence, tables=tables, joins=joins, filters=plan.filters,
                       aggregations=plan.aggregations, assumptions=plan.assumptions)


def _join(join: JoinUse) -> str:
    if join.condition is None:
        return f"{join.left_table} with every {join.right_table} row (no condition)"
    kind = join.join_type.lower()
    return f"{join.left_table} to {join.right_table} ({kind}) on {join.condition}"


def _and(items: tuple[str, ...] | list[str]) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
