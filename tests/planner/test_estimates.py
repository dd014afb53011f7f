"""Estimates that see explosions: theta joins as filtered products, GROUP BY from column statistics."""

from __future__ import annotations

from planner import PlanOptions, plan
from planner.catalog import CatalogSnapshot, Column, TableVersion

ITEMS = TableVersion("order_items", 1, "ACTIVE", "order_items",
                     (Column("order_id", "INTEGER"), Column("qty", "INTEGER")), 23_000)
ORDERS = TableVersion("orders", 1, "ACTIVE", "orders",
                      (Column("id", "INTEGER", False, True), Column("status", "TEXT", False, distinct_count=6),
                       Column("channel", "TEXT", True, distinct_count=3), Column("note", "TEXT")), 100_000)
CATALOG = CatalogSnapshot.of([ITEMS, ORDERS])
WIDE = PlanOptions(max_rows=1_000_000_000)


def test_the_issues_theta_join_is_explosive() -> None:
    p = plan("SELECT COUNT(*) FROM order_items a JOIN order_items b ON a.order_id <> b.order_id", CATALOG, WIDE)
    assert "EXPLOSIVE_JOIN" in {g.type for g in p.guardrails}


def test_a_theta_join_is_estimated_as_a_filtered_product() -> None:
    p = plan("SELECT a.qty FROM order_items a JOIN order_items b ON a.order_id <> b.order_id", CATALOG, WIDE)
    assert p.estimated_rows == 23_000 * 23_000
    q = plan("SELECT a.qty FROM order_items a JOIN order_items b ON a.qty < b.qty", CATALOG, WIDE)
    assert q.estimated_rows == round(23_000 * 23_000 / 3)


def test_an_equality_join_is_not_a_theta_join() -> None:
    p = plan("SELECT a.qty FROM order_items a JOIN orders o ON a.order_id = o.id AND a.qty > 1", CATALOG, WIDE)
    assert "EXPLOSIVE_JOIN" not in {g.type for g in p.guardrails}
    assert p.estimated_rows is not None and p.estimated_rows <= 100_000


def test_group_by_uses_distinct_counts_where_the_catalog_has_them() -> None:
    assert plan("SELECT status, COUNT(*) FROM orders GROUP BY status", CATALOG, WIDE).estimated_rows == 6
    # A nullable key adds its NULL group.
    assert plan("SELECT status, channel, COUNT(*) FROM orders GROUP BY status, channel", CATALOG,
                WIDE).estimated_rows == 6 * 4
    # Without statistics, the old reduction.
    assert plan("SELECT note, COUNT(*) FROM orders GROUP BY note", CATALOG, WIDE).estimated_rows == 10_000


def test_an_or_of_keyed_branches_is_not_a_theta_join() -> None:
    sql = ("SELECT a.qty FROM order_items a, orders o WHERE (a.order_id = o.id AND o.status = 'x') "
           "OR (a.order_id = o.id AND o.status = 'y')")
    assert "EXPLOSIVE_JOIN" not in {g.type for g in plan(sql, CATALOG, WIDE).guardrails}
