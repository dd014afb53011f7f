"""The warehouse's parser limits, checked live: each shape of nesting SQLite's parser stack
overflows on is planned at the deepest level SQLite accepts and one deeper; whatever plan()
accepts must run on SQLite, and the 300 parentheses of the issue are WAREHOUSE_LIMIT at preview."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import pytest

from planner import PlannerError, PlanOptions, plan
from planner.catalog import CatalogSnapshot, Column, TableVersion
from tests.planner import live

CATALOG = CatalogSnapshot.of([TableVersion("t", 1, "ACTIVE", "t", (Column("x", "INTEGER"),), 3)])

SHAPES: dict[str, Callable[[int], str]] = {
    "parentheses": lambda n: "SELECT " + "(" * n + "1" + ")" * n + " AS v",
    "parentheses in where": lambda n: "SELECT x FROM t WHERE " + "(" * n + "x = 1" + ")" * n,
    "scalar subqueries": lambda n: "SELECT " + "(SELECT " * n + "1" + ")" * n + " AS v",
    "derived tables": lambda n: "SELECT * FROM " + "(SELECT * FROM " * n + "t" + ") AS q" * n,
    "function calls": lambda n: "SELECT " + "ABS(" * n + "1" + ")" * n + " AS v",
    "second arguments": lambda n: "SELECT " + "COALESCE(x, " * n + "1" + ")" * n + " AS v FROM t",
    "case": lambda n: "SELECT " + "CASE WHEN x = 1 THEN " * n + "1" + " END" * n + " AS v FROM t",
    "case else": lambda n: "SELECT " + "CASE WHEN x = 1 THEN 1 ELSE " * n + "1" + " END" * n + " AS v FROM t",
    "arithmetic": lambda n: "SELECT " + "1 + (" * n + "1" + ")" * n + " AS v",
    "or": lambda n: "SELECT x FROM t WHERE " + "x = 1 OR (" * n + "x = 2" + ")" * n,
    "not": lambda n: "SELECT x FROM t WHERE " + "NOT (" * n + "x = 2" + ")" * n,
    "in subqueries": lambda n: "SELECT x FROM t WHERE " + "x IN (SELECT x FROM t WHERE " * n + "x = 1" + ")" * n,
    "exists": lambda n: "SELECT x FROM t WHERE " + "EXISTS (SELECT x FROM t WHERE " * n + "x = 1" + ")" * n,
    "casts": lambda n: "SELECT " + "CAST(" * n + "1" + " AS INT)" * n + " AS v",
    "unions in derived tables": lambda n: "SELECT * FROM " + "(SELECT x FROM t UNION SELECT * FROM " * n + "t"
                                          + ") AS q" * n,
}


def _sqlite_accepts(sql: str) -> bool:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (x INTEGER)")
    try:
        conn.execute(sql).fetchall()
        return True
    except sqlite3.Error:
        return False
    finally:
        conn.close()


def _deepest_accepted(shape: Callable[[int], str]) -> int:
    lo, hi = 0, 300
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if _sqlite_accepts(shape(mid)) else (lo, mid - 1)
    return lo


@pytest.mark.parametrize("name", list(SHAPES))
def test_what_previews_on_sqlite_runs_on_sqlite(name: str) -> None:
    shape = SHAPES[name]
    deepest = _deepest_accepted(shape)
    for n in (deepest - 1, deepest, deepest + 1, deepest + 5):
        try:
            planned = plan(shape(n), CATALOG, PlanOptions(warehouse_dialect="sqlite"))
        except PlannerError as e:
            assert e.code == "WAREHOUSE_LIMIT", e.message
            assert n >= deepest - 1, f"{name}: refused {n} levels, SQLite runs {deepest}"
            continue
        assert _sqlite_accepts(planned.sql), f"{name}: {n} levels preview but fail on SQLite"


def test_three_hundred_parentheses_are_refused_at_preview_on_sqlite() -> None:
    sql = "SELECT " + "(" * 300 + "1" + ")" * 300 + " AS v"
    with pytest.raises(PlannerError) as caught:
        plan(sql, CATALOG, PlanOptions(warehouse_dialect="sqlite"))
    assert caught.value.code == "WAREHOUSE_LIMIT"
    assert caught.value.extensions.items() >= {"warehouse": "sqlite", "limit": "nesting depth"}.items()
    assert "SQLite" in caught.value.message


def test_a_compound_of_more_selects_than_sqlite_takes_is_refused() -> None:
    sql = " UNION ALL ".join(["SELECT x FROM t"] * 501)
    with pytest.raises(PlannerError) as caught:
        plan(sql, CATALOG, PlanOptions(warehouse_dialect="sqlite"))
    assert caught.value.code == "WAREHOUSE_LIMIT"
    assert plan(" UNION ALL ".join(["SELECT x FROM t"] * 500), CATALOG, PlanOptions(warehouse_dialect="sqlite"))


def test_a_name_postgresql_would_truncate_is_refused() -> None:
    alias = "a" * 64
    with pytest.raises(PlannerError) as caught:
        plan(f"SELECT x AS {alias} FROM t", CATALOG, PlanOptions(warehouse_dialect="postgres"))
    assert caught.value.code == "WAREHOUSE_LIMIT"
    assert caught.value.extensions["limit"] == "identifier length"
    assert plan(f"SELECT x AS {alias[:63]} FROM t", CATALOG, PlanOptions(warehouse_dialect="postgres"))


def test_deep_parentheses_run_on_postgresql() -> None:
    sql = "SELECT " + "(" * 150 + "i" + ")" * 150 + " AS v FROM probe"
    planned = plan(sql, live.catalog("postgres"), PlanOptions(warehouse_dialect="postgres"))
    with live.warehouse("postgres") as run:
        assert len(run(planned.sql)) == 3
