"""What the preview shows, in plain words: assumptions while planning, and explain(plan) after."""

from __future__ import annotations

from planner.catalog import READ_ONLY
from planner.joins import JoinInfo
from planner.model import Explanation, JoinUse, Plan, TableUse

_STATE_WORDS = {READ_ONLY: "READ_ONLY, registered from the warehouse"}


def assumptions(tables: tuple[TableUse, ...], joins: list[JoinInfo], row_cap: int, analyst_limit: int | None,
                dialect: str, warehouse: str) -> tuple[str, ...]:
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
    said.append("estimates come from catalog row counts")
    return tuple(dict.fromkeys(said))


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
