"""The planner's pure language functions: diagnose, complete, format_sql."""

from __future__ import annotations

import pytest

from planner import InvalidSQL, Pin, PlanOptions
from planner.complete import complete
from planner.diagnostics import diagnose
from planner.formatting import format_sql
from planner.positions import Position, Range
from tests.planner.catalogs import shop_catalog, tpch_catalog

SHOP = shop_catalog()
TPCH = tpch_catalog()
ENGINEER = PlanOptions(may_view_shadow=True)


def _labels(sql: str, options: PlanOptions) -> list[str]:
    """What is offered with the cursor at the end of a one-line ``sql``."""
    return [i.label for i in complete(sql, 1, len(sql) + 1, SHOP, options).items]


def test_diagnose_reports_every_unknown_column_in_order() -> None:
    planned, found = diagnose("SELECT statuz, amont\nFROM orders", SHOP, PlanOptions())
    assert planned is None
    assert [(d.code, d.range.start, d.suggestions[0].replacement) for d in found] == [
        ("COLUMN_NOT_FOUND", Position(1, 8), "status"), ("COLUMN_NOT_FOUND", Position(1, 16), "amount")]


def test_diagnose_a_valid_query_gives_its_guardrails_as_warnings() -> None:
    planned, found = diagnose("SELECT name FROM customers, regions", SHOP, PlanOptions())
    assert planned is not None
    assert {d.code for d in found} == {g.type for g in planned.guardrails} and found
    assert {d.severity for d in found} == {"WARNING"}


def _warnings(sql: str, options: PlanOptions = PlanOptions()) -> dict[str, str]:
    """Each guardrail's code and the text its range covers."""
    _, found = diagnose(sql, SHOP, options)
    lines = sql.split("\n")

    def text(d: object) -> str:
        r = d.range  # type: ignore[attr-defined]
        if r.start.line == r.end.line:
            return lines[r.start.line - 1][r.start.column - 1:r.end.column - 1]
        return "\n".join([lines[r.start.line - 1][r.start.column - 1:], *lines[r.start.line:r.end.line - 1],
                          lines[r.end.line - 1][:r.end.column - 1]])

    return {d.code: text(d) for d in found if d.severity == "WARNING"}


def test_a_join_guardrail_points_at_the_join_not_the_whole_query() -> None:
    sql = "SELECT c.name, o.status\nFROM orders o\nJOIN customers c ON o.status = c.name\nWHERE o.o_id = 1"
    assert _warnings(sql)["UNVERIFIED_JOIN"] == "customers c ON o.status = c.name"
    comma = "SELECT name\nFROM customers, regions"
    assert _warnings(comma)["CARTESIAN_PRODUCT"] == "regions"
    linked = "SELECT c.name FROM orders o, customers c\nWHERE o.status = c.name AND o.o_id = 2"
    assert _warnings(linked)["UNVERIFIED_JOIN"] == "o.status = c.name"


def test_table_and_column_guardrails_point_at_the_table_and_the_column() -> None:
    pinned = PlanOptions(pins=(Pin("legacy", 1),))
    assert _warnings("SELECT note\nFROM legacy", pinned)["DEPRECATED_TABLE"] == "legacy"
    assert _warnings("SELECT status, COUNT(*) FROM orders\nGROUP BY customer_id")["AMBIGUOUS_AGGREGATE"] == "status"


def test_range_spans_lines() -> None:
    _, (d,) = diagnose("SELECT *\n  FROM ordrs", SHOP, PlanOptions())
    assert d.range == Range(Position(2, 8), Position(2, 13))


def test_tables_offered_are_the_visible_ones_with_their_state() -> None:
    items = complete("SELECT * FROM ", 1, 15, SHOP, PlanOptions()).items
    assert {i.label: i.state for i in items} == {
        "customers": "ACTIVE", "events": "READ_ONLY", "legacy": "DEPRECATED", "order_items": "ACTIVE",
        "orders": "ACTIVE", "products": "READ_ONLY", "regions": "ACTIVE"}
    assert "drafts" in _labels("SELECT * FROM ", ENGINEER)


def test_prefix_filters_and_is_replaced() -> None:
    result = complete("SELECT * FROM cus", 1, 18, SHOP, PlanOptions())
    assert [i.label for i in result.items] == ["customers"]
    assert result.range == Range(Position(1, 15), Position(1, 18))


def test_columns_after_an_alias_come_from_the_resolved_version() -> None:
    result = complete("SELECT o. FROM orders o", 1, 10, SHOP, PlanOptions())
    assert [(i.label, i.type) for i in result.items][:2] == [("o_id", "INTEGER"), ("customer_id", "INTEGER")]
    assert {i.detail for i in result.items} == {f"{i.type} · orders v2" for i in result.items}


def test_pinned_version_gives_its_columns() -> None:
    result = complete("SELECT o. FROM orders o", 1, 10, SHOP, PlanOptions(pins=(Pin("orders", 1),)))
    assert {i.detail.split(" · ")[1] for i in result.items if i.detail} == {"orders v1"}


def test_shadow_table_gives_no_columns_to_whoever_may_not_see_it() -> None:
    assert complete("SELECT d. FROM drafts d", 1, 10, SHOP, PlanOptions()).items == ()
    assert [i.label for i in complete("SELECT d. FROM drafts d", 1, 10, SHOP, ENGINEER).items] == ["id", "body"]


def test_accepted_join_condition_is_offered_after_on() -> None:
    items = complete("SELECT * FROM lineitem l JOIN orders o ON ", 1, 43, TPCH, PlanOptions()).items
    assert items[0].kind == "JOIN" and items[0].label == "l.l_orderkey = o.o_orderkey"


def test_columns_functions_and_keywords_in_where() -> None:
    items = complete("SELECT * FROM orders WHERE am", 1, 30, SHOP, PlanOptions()).items
    assert [(i.label, i.kind) for i in items] == [("amount", "COLUMN")]
    kinds = {i.kind for i in complete("SELECT * FROM orders WHERE ", 1, 28, SHOP, PlanOptions()).items}
    assert kinds == {"COLUMN", "FUNCTION", "KEYWORD"}


def test_first_word_is_a_keyword() -> None:
    assert [i.label for i in complete("SEL", 1, 4, SHOP, PlanOptions()).items] == ["SELECT"]


def test_format_keeps_comments_and_dialect() -> None:
    assert format_sql("select a -- why\nfrom t", "postgres") == "SELECT\n  a /* why */\nFROM t"


def test_format_refuses_what_does_not_parse_with_its_place() -> None:
    with pytest.raises(InvalidSQL) as caught:
        format_sql("SELECT a FROM t WHER x = 1", "sqlite")
    assert caught.value.extensions["column"] == 17 and caught.value.extensions["suggestions"] == ["WHERE"]


def test_cte_is_offered_as_a_table_and_its_columns_come_from_its_query() -> None:
    sql = "WITH recent AS (SELECT o_id, amount * 2 AS doubled FROM orders) SELECT r. FROM recent r"
    items = complete(sql, 1, sql.index("r. ") + 3, SHOP, PlanOptions()).items
    assert [(i.label, i.type) for i in items] == [("o_id", "INTEGER"), ("doubled", None)]
    assert _labels("WITH recent AS (SELECT 1 AS a) SELECT * FROM re", PlanOptions()) == ["recent", "regions"]


def test_cte_over_a_shadow_table_gives_no_columns_to_whoever_may_not_see_it() -> None:
    sql = "WITH d AS (SELECT * FROM drafts) SELECT x. FROM d x"
    assert complete(sql, 1, sql.index("x. ") + 3, SHOP, PlanOptions()).items == ()
    pinned = PlanOptions(may_view_shadow=True, pins=(Pin("drafts", 1),))  # as a preview needs it pinned
    assert [i.label for i in complete(sql, 1, sql.index("x. ") + 3, SHOP, pinned).items] == ["id", "body"]
