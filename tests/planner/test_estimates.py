"""Estimates that see explosions: theta joins as filtered products, GROUP BY from column statistics."""

from __future__ import annotations

from planner import Plan, PlanOptions, plan, with_warehouse_estimate
from planner.catalog import SAMPLED_STATS, CatalogSnapshot, Column, TableVersion

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


# --- GROUP BY from column statistics, and what the preview says about it -------------------------

SAMPLED = TableVersion("events", 1, "ACTIVE", "events",
                       (Column("kind", "TEXT", False, distinct_count=40), Column("day", "TEXT", False,
                                                                                 distinct_count=400)),
                       5_000, stats=SAMPLED_STATS)
STATS = CatalogSnapshot.of([ITEMS, ORDERS, SAMPLED])


def _basis(p: Plan) -> list[str]:
    return [a for a in p.assumptions if a.startswith("GROUP BY")]


def test_one_grouped_column_is_estimated_at_its_distinct_count_and_the_preview_says_so() -> None:
    p = plan("SELECT status, COUNT(*) FROM orders GROUP BY status", STATS, WIDE)
    assert p.estimated_rows == 6 and p.estimate_ceiling == 6
    assert _basis(p) == ["GROUP BY status is estimated at 6 groups from the catalog's distinct counts "
                         "(status 6; counted exactly)"]
    assert "estimates come from catalog row counts" in p.assumptions


def test_several_columns_multiply_and_are_capped_by_the_rows_grouped() -> None:
    p = plan("SELECT kind, day, COUNT(*) FROM events GROUP BY kind, day", STATS, WIDE)
    assert p.estimated_rows == 5_000  # 40 × 400 = 16,000 groups cannot come from 5,000 rows
    assert p.estimate_ceiling == 16_000
    (said,) = _basis(p)
    assert said == ("GROUP BY kind, day is estimated at 5,000 groups from the catalog's distinct counts "
                    "(kind 40, day 400; estimated from a sample), no more than the 5,000 rows it groups")
    # A filter first: a quarter of the rows, still more than the 40 kinds.
    assert plan("SELECT kind, COUNT(*) FROM events WHERE day > 'x' GROUP BY kind", STATS, WIDE).estimated_rows == 40


def test_keys_from_two_tables_multiply_their_distinct_counts() -> None:
    p = plan("SELECT o.status, e.kind, COUNT(*) FROM orders o JOIN events e ON e.day = o.note "
             "GROUP BY o.status, e.kind", STATS, WIDE)
    assert p.estimated_rows == 6 * 40
    assert "counted exactly and estimated from a sample" in _basis(p)[0]


def test_having_keeps_a_quarter_of_the_groups_per_condition() -> None:
    p = plan("SELECT kind, COUNT(*) FROM events GROUP BY kind HAVING COUNT(*) > 10", STATS, WIDE)
    assert p.estimated_rows == 10 and p.estimate_ceiling == 40
    assert _basis(p)[0].endswith("; each HAVING condition keeps about 25% of the groups")
    q = plan("SELECT kind, COUNT(*) FROM events GROUP BY kind HAVING COUNT(*) > 10 AND MIN(day) < 'x'",
             STATS, WIDE)
    assert q.estimated_rows == int(40 * 0.25 * 0.25)


def test_an_expression_has_no_statistic_and_the_preview_says_why() -> None:
    p = plan("SELECT UPPER(status), COUNT(*) FROM orders GROUP BY UPPER(status)", STATS, WIDE)
    assert p.estimated_rows == 10_000 and p.estimate_ceiling is None
    assert _basis(p) == ["GROUP BY UPPER(status) is estimated at 10% of its 100,000 rows: an expression "
                         "(UPPER(status)) has no distinct count"]
    q = plan("SELECT note, COUNT(*) FROM orders GROUP BY note", STATS, WIDE)
    assert _basis(q) == ["GROUP BY note is estimated at 10% of its 100,000 rows: the catalog has no "
                         "distinct count of note"]
    # One key without a statistic leaves the whole GROUP BY without one.
    assert plan("SELECT status, note, COUNT(*) FROM orders GROUP BY status, note", STATS,
                WIDE).estimated_rows == 10_000


def test_grouping_sets_have_no_statistic() -> None:
    p = plan("SELECT status, COUNT(*) FROM orders GROUP BY ROLLUP (status)", STATS,
             PlanOptions(warehouse_dialect="postgres", max_rows=1_000_000_000))
    assert p.estimated_rows == 10_000
    assert _basis(p)[0].endswith("grouping sets have no distinct count")


def test_an_ordinal_or_an_alias_groups_by_the_column_it_names() -> None:
    assert plan("SELECT status, COUNT(*) FROM orders GROUP BY 1", STATS, WIDE).estimated_rows == 6
    assert plan("SELECT status AS s, COUNT(*) FROM orders GROUP BY s", STATS, WIDE).estimated_rows == 6


def test_a_grouped_subquery_feeds_the_outer_estimate_but_sets_no_ceiling() -> None:
    p = plan("SELECT * FROM (SELECT status, COUNT(*) AS n FROM orders GROUP BY status) AS t", STATS, WIDE)
    assert p.estimated_rows == 6 and p.estimate_ceiling is None
    assert len(_basis(p)) == 1


def test_the_warehouse_estimate_replaces_the_catalogs_capped_by_the_distinct_counts() -> None:
    p = plan("SELECT status, COUNT(*) FROM orders GROUP BY status", STATS, WIDE)
    guessed = with_warehouse_estimate(p, 200)  # PostgreSQL's guess for a table it never analysed
    assert guessed.estimated_rows == 6
    assert ("the row estimate is the warehouse's EXPLAIN (200 rows), capped at 6 by the catalog's distinct "
            "counts of the GROUP BY columns") in guessed.assumptions
    assert "estimates come from catalog row counts" not in guessed.assumptions
    lower = with_warehouse_estimate(p, 4)  # a warehouse that knows better (a filter's selectivity)
    assert lower.estimated_rows == 4
    assert any(a.startswith("the row estimate is the warehouse's own (EXPLAIN)") for a in lower.assumptions)
    plain = with_warehouse_estimate(plan("SELECT note FROM orders", STATS, WIDE), 123)
    assert plain.estimated_rows == 123
