"""The planner's public surface and behaviours the golden files do not show: plan fields,
explanations, corrections, the cache, and error details."""

from __future__ import annotations

import dataclasses

import pytest

import planner
from planner import (
    Correction,
    InvalidCorrection,
    InvalidSQL,
    Pin,
    PlanCache,
    PlanOptions,
    TableNotFound,
    apply_corrections,
    explain,
    plan,
)
from tests.planner.catalogs import shop_catalog, tpch_catalog, tpch_queries

SHOP = shop_catalog()
JOINED = ("SELECT c.country, SUM(o.amount) AS total FROM customers AS c JOIN orders AS o ON o.customer_id = c.c_id "
          "WHERE o.status = 'paid' AND c.country <> 'XX' GROUP BY c.country")


def test_public_surface_is_pinned() -> None:
    for name in ("plan", "explain", "apply_corrections", "PlanCache", "Plan", "PlanOptions", "Pin", "TableUse",
                 "JoinUse", "Guardrail", "Correction", "Explanation", "GuardrailThresholds", "PlannerError",
                 "InvalidSQL", "NotAQuery", "ForbiddenFunction", "TableNotFound", "TableNotQueryable",
                 "InvalidCorrection"):
        assert name in planner.__all__
        assert hasattr(planner, name)
    assert set(planner.__all__) == {n for n in planner.__all__ if hasattr(planner, n)}


def test_value_types_are_frozen() -> None:
    p = plan("SELECT c_id FROM customers", SHOP)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.sql = "DROP TABLE x"  # type: ignore[misc]
    assert dataclasses.is_dataclass(PlanOptions) and PlanOptions.__dataclass_params__.frozen  # type: ignore[attr-defined]


def test_plan_reports_tables_joins_filters_and_aggregations() -> None:
    p = plan(JOINED, SHOP)
    assert [(t.name, t.version, t.state, t.physical_name, t.alias, t.pinned) for t in p.tables] == [
        ("customers", 1, "ACTIVE", "customers", "c", False), ("orders", 2, "ACTIVE", "orders__v2", "o", False)]
    (join,) = p.joins
    assert (join.left_table, join.right_table, join.join_type, join.condition) == (
        "customers", "orders", "INNER", "o.customer_id = c.c_id")
    assert (join.accepted_join_id, join.accepted_join_version) == ("j-orders-customers", 2)
    assert p.filters == ("o.status = 'paid'", "c.country <> 'XX'")
    assert p.aggregations == ("SUM(o.amount)",)
    assert p.group_by == ("c.country",)
    assert "orders resolves to v2 (ACTIVE)" in p.assumptions
    assert ("at most 10,000 rows come back (the row cap); the SQL asks for 10,001 only to tell whether "
            "there were more") in p.assumptions
    assert any(a.startswith("INNER JOIN drops customers rows") for a in p.assumptions)
    assert p.row_cap == 10_000 and p.estimated_rows is not None and p.estimated_cost_ms is not None
    assert "orders__v2" not in p.analyst_sql and "orders AS o" in p.analyst_sql


def test_explain_is_a_readable_sentence() -> None:
    e = explain(plan(JOINED, SHOP))
    assert e.plain_english.startswith("Reads customers v1 (ACTIVE) and orders v2 (ACTIVE)")
    assert "keeping rows where o.status = 'paid'" in e.plain_english
    assert "computing SUM(o.amount) per c.country" in e.plain_english
    assert e.plain_english.endswith("returns at most 10,000 rows.")
    assert e.tables == ("customers v1 (ACTIVE)", "orders v2 (ACTIVE)")


def test_guardrail_flags_override_and_fan_trap_names_column_and_join() -> None:
    p = plan("SELECT c.name, p.name FROM customers AS c, products AS p", SHOP)
    assert "CARTESIAN_PRODUCT" in p.requires_override
    trap = plan("SELECT SUM(o.amount) FROM orders AS o JOIN order_items AS i ON i.order_id = o.o_id "
                "WHERE o.status = 'x'", SHOP)
    (g,) = [g for g in trap.guardrails if g.type == "FAN_TRAP"]
    assert "orders.amount" in g.message and "i.order_id = o.o_id" in g.message and not g.requires_override


def test_thresholds_are_data() -> None:
    strict = PlanOptions(thresholds=planner.GuardrailThresholds(large_table_rows=10))
    types = [g.type for g in plan("SELECT name FROM customers", SHOP, strict).guardrails]
    assert types == ["MISSING_FILTER_LARGE_TABLE"]


def test_not_found_message_is_the_same_for_hidden_and_missing_tables() -> None:
    messages = set()
    for name in ("nowhere", "drafts"):  # drafts exists, but only as a SHADOW version
        with pytest.raises(TableNotFound) as caught:
            plan(f"SELECT * FROM {name}", SHOP)
        messages.add(caught.value.message.replace(name, "<typed>"))
        assert caught.value.fixes == ()
    assert len(messages) == 1
    for name in ("orders__v2", "spyne_shadow.orders__v3"):
        with pytest.raises(TableNotFound) as caught:
            plan(f"SELECT * FROM {name}", SHOP)
        rest = caught.value.message.replace(name, "")
        assert "orders__v" not in rest and "spyne_shadow" not in rest  # only what was typed is repeated
        assert [f.replacement for f in caught.value.fixes] == ["orders"]


def test_not_found_names_the_table_and_suggests_only_visible_names() -> None:
    with pytest.raises(TableNotFound) as caught:
        plan("SELECT * FROM ordrs", SHOP)
    assert "'ordrs'" in caught.value.message and "orders" in caught.value.message
    assert caught.value.extensions["line"] == 1 and caught.value.extensions["column"] == 15
    assert caught.value.extensions["endColumn"] == 20
    with pytest.raises(TableNotFound) as caught:
        plan("SELECT * FROM draft", SHOP)
    assert caught.value.fixes == () and "drafts" not in caught.value.message
    with pytest.raises(TableNotFound) as caught:
        plan("SELECT * FROM draft", SHOP, PlanOptions(may_view_shadow=True))
    assert [f.replacement for f in caught.value.fixes] == ["drafts"]


def test_invalid_sql_carries_line_and_column() -> None:
    with pytest.raises(InvalidSQL) as caught:
        plan("SELECT c_id\nFROM customers\nWHERE (c_id = 1", SHOP)
    assert caught.value.line == 3 and caught.value.column is not None
    assert caught.value.extensions == {"line": 3, "column": caught.value.column, "endLine": 3,
                                       "endColumn": caught.value.column + 1}
    with pytest.raises(InvalidSQL) as too_big:
        plan("SELECT 1 " + "-- x\n" * 20, SHOP, PlanOptions(max_sql_bytes=50))
    assert too_big.value.line is not None


def _replan(sql: str, corrections: list[Correction], options: PlanOptions = PlanOptions()) -> planner.Plan:
    corrected, new_options = apply_corrections(plan(sql, SHOP, options), corrections, options)
    return plan(corrected, SHOP, new_options)


def test_correction_set_join_type() -> None:
    p = _replan(JOINED, [Correction("SET_JOIN_TYPE", join_index=0, join_type="LEFT")])
    assert p.joins[0].join_type == "LEFT" and "LEFT JOIN" in p.sql


def test_correction_add_and_remove_filter() -> None:
    p = _replan(JOINED, [Correction("ADD_FILTER", condition="o.amount > 10"),
                         Correction("REMOVE_FILTER", filter_index=0)])
    assert p.filters == ("c.country <> 'XX'", "o.amount > 10")
    q = _replan(JOINED, [Correction("REMOVE_FILTER", condition="c.country <> 'XX'")])
    assert q.filters == ("o.status = 'paid'",)


def test_correction_set_aggregation_group_by_and_limit() -> None:
    p = _replan(JOINED, [Correction("SET_AGGREGATION", aggregation_index=0, function="AVG"),
                         Correction("SET_GROUP_BY", columns=("c.country", "o.status")),
                         Correction("SET_LIMIT", limit=5)])
    assert p.aggregations == ("AVG(o.amount)",)
    assert p.group_by == ("c.country", "o.status")
    assert p.sql.endswith("LIMIT 5")


def test_correction_pin_version_changes_options_only() -> None:
    sql, options = apply_corrections(plan(JOINED, SHOP), [Correction("PIN_VERSION", table="orders", version=1)],
                                     PlanOptions())
    assert options.pins == (Pin("orders", 1),)
    p = plan(sql, SHOP, options)
    assert [g.type for g in p.guardrails].count("DEPRECATED_TABLE") == 1


def test_corrections_are_checked_again_when_replanned() -> None:
    corrected, options = apply_corrections(plan(JOINED, SHOP),
                                           [Correction("ADD_FILTER", condition="c.c_id IN (SELECT 1 FROM orders__v2)")],
                                           PlanOptions())
    with pytest.raises(TableNotFound):
        plan(corrected, SHOP, options)


@pytest.mark.parametrize("correction", [
    Correction("SET_JOIN_TYPE", join_index=7, join_type="LEFT"),
    Correction("SET_JOIN_TYPE", join_index=0, join_type="SIDEWAYS"),
    Correction("REMOVE_FILTER", filter_index=9),
    Correction("REMOVE_FILTER", condition="x = 1"),
    Correction("SET_AGGREGATION", aggregation_index=0, function="EXPLODE"),
    Correction("ADD_FILTER", condition="DELETE FROM customers"),
    Correction("ADD_FILTER", condition="(("),
    Correction("SET_LIMIT", limit=-1),
    Correction("PIN_VERSION", table="orders", version=0),
    Correction("REWRITE_EVERYTHING"),
])
def test_invalid_corrections_are_refused(correction: Correction) -> None:
    with pytest.raises(InvalidCorrection):
        apply_corrections(plan(JOINED, SHOP), [correction], PlanOptions())


def test_cache_hits_on_same_inputs_and_misses_on_new_epoch_or_visibility() -> None:
    cache = PlanCache(maxsize=2)
    options = PlanOptions()
    p = plan("SELECT c_id FROM customers", SHOP, options)
    cache.put("SELECT c_id FROM customers", options, 1, p)
    assert cache.get("  SELECT c_id FROM customers ", options, 1) is p
    assert cache.get("SELECT c_id FROM customers", options, 2) is None
    assert cache.get("SELECT c_id FROM customers", dataclasses.replace(options, may_view_shadow=True), 1) is None
    assert cache.get("SELECT c_id FROM customers", dataclasses.replace(options, pins=(Pin("x", 1),)), 1) is None
    cache.put("a", options, 1, p)
    cache.put("b", options, 1, p)
    assert len(cache) == 2 and cache.get("SELECT c_id FROM customers", options, 1) is None


def test_tpch_queries_plan_for_postgres_without_errors() -> None:
    for _, sql in tpch_queries():
        p = plan(sql, tpch_catalog(), PlanOptions(warehouse_dialect="postgres"))
        assert "tpch_" in p.sql
