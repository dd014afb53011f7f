"""Structured queries: golden SQL for what they build, and every refusal (pure, hand-built catalogs).

    regions ◄── customers ◄── orders ──► stores ──► regions     (two ways from orders to regions)
                   ▲            ▲  ▲
    tickets ───────┘ (LEFT)     │  └── returns
    order_lines (composite key) ┘      vendors ── legacy_links (DEPRECATED) ── orders
    sessions: no accepted join at all; clicks ↔ impressions: an accepted many-to-many.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from planner import (
    AmbiguousJoinPath,
    InvalidSQL,
    InvalidStructuredQuery,
    NoJoinPath,
    Pin,
    PlannerError,
    PlanOptions,
    StructuredQuery,
    TableNotFound,
    TableNotQueryable,
    build_structured,
    plan_structured,
)
from planner.catalog import AcceptedJoin, CatalogSnapshot, Column, TableVersion
from planner.structured import AUTO_JOINED_STATES


def _table(name: str, columns: str, rows: int, state: str = "ACTIVE", version: int = 1) -> TableVersion:
    names = columns.split()
    cols = tuple(Column(c, "INTEGER" if c == "id" or c.endswith("_id") else "TEXT", c != "id", c == "id")
                 for c in names)
    return TableVersion(name, version, state, f"wh_{name}_v{version}", cols, rows)


TABLES = [
    _table("regions", "id name", 5),
    _table("customers", "id name region_id credit", 50),
    _table("stores", "id city region_id", 10, state="READ_ONLY"),
    _table("orders", "id customer_id store_id total", 500),
    _table("returns", "id order_id reason", 40),
    _table("tickets", "id customer_id subject", 300),
    _table("order_lines", "order_id line_no qty", 2_000),
    _table("shipments", "id order_id line_no carrier", 1_500),
    _table("vendors", "id name", 20),
    _table("legacy_links", "id vendor_id order_id", 100, state="DEPRECATED"),
    _table("sessions", "id started", 100),
    _table("clicks", "id campaign_id", 1_500),
    _table("impressions", "id campaign_id", 1_500),
    _table("staged", "id order_id", 10, state="SHADOW"),
]


def _join(jid: str, left: str, lcols: tuple[str, ...], right: str, rcols: tuple[str, ...], join_type: str = "INNER",
          cardinality: str = "MANY_TO_ONE", fan_out: float = 1.0) -> AcceptedJoin:
    return AcceptedJoin(jid, 1, left, lcols, right, rcols, join_type, cardinality, fan_out)


JOINS = (
    _join("j_orders_customers", "orders", ("customer_id",), "customers", ("id",)),
    _join("j_customers_regions", "customers", ("region_id",), "regions", ("id",)),
    _join("j_orders_stores", "orders", ("store_id",), "stores", ("id",)),
    _join("j_stores_regions", "stores", ("region_id",), "regions", ("id",)),
    _join("j_returns_orders", "returns", ("order_id",), "orders", ("id",)),
    _join("j_customers_tickets", "customers", ("id",), "tickets", ("customer_id",), "LEFT", "ONE_TO_MANY", 6.0),
    _join("j_lines_orders", "order_lines", ("order_id",), "orders", ("id",)),
    _join("j_shipments_lines", "shipments", ("order_id", "line_no"), "order_lines", ("order_id", "line_no")),
    _join("j_links_vendors", "legacy_links", ("vendor_id",), "vendors", ("id",)),
    _join("j_links_orders", "legacy_links", ("order_id",), "orders", ("id",)),
    _join("j_clicks_impressions", "clicks", ("campaign_id",), "impressions", ("campaign_id",), "INNER",
          "MANY_TO_MANY", 1_500.0),
    _join("j_staged_orders", "staged", ("order_id",), "orders", ("id",)),
)

CATALOG = CatalogSnapshot.of(TABLES, JOINS, epoch=1)


def q(*select: str, where: list[str] | None = None, group_by: list[str] | None = None,
      order_by: list[str] | None = None, limit: int | None = None, via: list[str] | None = None) -> StructuredQuery:
    return StructuredQuery(select=select, where=tuple(where or ()), group_by=tuple(group_by or ()),
                           order_by=tuple(order_by or ()), limit=limit, via=tuple(via or ()))


GOLDEN: list[tuple[str, StructuredQuery, str]] = [
    ("one table, filters, order and limit",
     q("orders.id", "orders.total", where=["orders.total > 100", "orders.store_id = 3 OR orders.store_id = 4"],
       order_by=["orders.total DESC"], limit=10),
     "SELECT orders.id, orders.total FROM orders WHERE orders.total > 100 AND "
     "(orders.store_id = 3 OR orders.store_id = 4) ORDER BY orders.total DESC LIMIT 10"),
    ("two tables, one accepted join",
     q("orders.id", "customers.name"),
     "SELECT orders.id, customers.name FROM orders "
     "INNER JOIN customers ON orders.customer_id = customers.id"),
    ("a three-table chain through a table no item names",
     q("returns.reason", "customers.name"),
     "SELECT returns.reason, customers.name FROM returns "
     "INNER JOIN orders ON returns.order_id = orders.id "
     "INNER JOIN customers ON orders.customer_id = customers.id"),
    ("aggregates with an alias, COUNT(*), group by and order by an alias",
     q("customers.name", "SUM(orders.total) AS revenue", "COUNT(*) AS n", group_by=["customers.name"],
       order_by=["revenue DESC", "customers.name"], limit=5),
     "SELECT customers.name, SUM(orders.total) AS revenue, COUNT(*) AS n FROM customers "
     "INNER JOIN orders ON orders.customer_id = customers.id GROUP BY customers.name "
     "ORDER BY revenue DESC, customers.name LIMIT 5"),
    ("tables named only in where still join",
     q("orders.id", where=["regions.name = 'north'"], via=["customers"]),
     "SELECT orders.id FROM orders INNER JOIN customers ON orders.customer_id = customers.id "
     "INNER JOIN regions ON customers.region_id = regions.id WHERE regions.name = 'north'"),
    ("via settles which way to go",
     q("regions.name", "SUM(orders.total) AS revenue", group_by=["regions.name"], via=["stores"]),
     "SELECT regions.name, SUM(orders.total) AS revenue FROM regions "
     "INNER JOIN stores ON stores.region_id = regions.id "
     "INNER JOIN orders ON orders.store_id = stores.id GROUP BY regions.name"),
    ("a star: three tables joined to one",
     q("orders.id", "customers.name", "stores.city", "returns.reason"),
     "SELECT orders.id, customers.name, stores.city, returns.reason FROM orders "
     "INNER JOIN customers ON orders.customer_id = customers.id "
     "INNER JOIN stores ON orders.store_id = stores.id "
     "INNER JOIN returns ON returns.order_id = orders.id"),
    ("a LEFT join keeps its meaning from either side",
     q("tickets.subject", "customers.name"),
     "SELECT tickets.subject, customers.name FROM tickets "
     "RIGHT JOIN customers ON customers.id = tickets.customer_id"),
    ("a LEFT join in its own direction",
     q("customers.name", "COUNT(tickets.id) AS open_tickets", group_by=["customers.name"]),
     "SELECT customers.name, COUNT(tickets.id) AS open_tickets FROM customers "
     "LEFT JOIN tickets ON customers.id = tickets.customer_id GROUP BY customers.name"),
    ("a composite key joins on every column",
     q("shipments.carrier", "order_lines.qty"),
     "SELECT shipments.carrier, order_lines.qty FROM shipments "
     "INNER JOIN order_lines ON shipments.order_id = order_lines.order_id "
     "AND shipments.line_no = order_lines.line_no"),
    ("a qualified star",
     q("customers.*"),
     "SELECT customers.* FROM customers"),
]


@pytest.mark.parametrize(("title", "query", "expected"), GOLDEN, ids=[g[0] for g in GOLDEN])
def test_golden(title: str, query: StructuredQuery, expected: str) -> None:
    assert build_structured(query, CATALOG) == expected


def test_built_sql_plans_with_every_join_matched_and_the_row_cap() -> None:
    planned = plan_structured(q("returns.reason", "customers.name"), CATALOG, PlanOptions(max_rows=100))
    assert [(j.accepted_join_id, j.accepted_join_version) for j in planned.joins] == [
        ("j_returns_orders", 1), ("j_orders_customers", 1)]
    assert "UNVERIFIED_JOIN" not in {g.type for g in planned.guardrails}
    assert planned.original_sql == build_structured(q("returns.reason", "customers.name"), CATALOG)
    assert planned.sql.endswith("LIMIT 101")  # the row cap, plus the row that tells truncation
    assert "wh_returns_v1" in planned.sql and "wh_customers_v1" in planned.sql


def test_ambiguous_path_is_refused_with_every_alternative() -> None:
    with pytest.raises(AmbiguousJoinPath) as caught:
        build_structured(q("orders.id", "regions.name"), CATALOG)
    error = caught.value
    assert error.code == "INVALID_INPUT"
    assert error.extensions["alternatives"] == ["orders → customers → regions", "orders → stores → regions"]
    assert error.extensions["alternativeJoins"] == [["j_orders_customers@1", "j_customers_regions@1"],
                                                    ["j_orders_stores@1", "j_stores_regions@1"]]
    assert "orders → customers → regions; or orders → stores → regions" in error.message
    assert "via" in error.message


def test_ambiguity_is_the_same_whichever_way_the_joins_are_listed() -> None:
    reversed_catalog = CatalogSnapshot.of(TABLES, tuple(reversed(JOINS)))
    with pytest.raises(AmbiguousJoinPath) as caught:
        build_structured(q("orders.id", "regions.name"), reversed_catalog)
    assert caught.value.extensions["alternatives"] == ["orders → customers → regions", "orders → stores → regions"]


def test_missing_path_names_the_tables_left_apart() -> None:
    with pytest.raises(NoJoinPath) as caught:
        build_structured(q("orders.id", "customers.name", "sessions.started"), CATALOG)
    error = caught.value
    assert error.code == "INVALID_INPUT"
    assert error.extensions == {"tables": ["orders", "customers", "sessions"], "unconnected": ["sessions"]}
    assert "connects orders and customers with sessions" in error.message


def test_a_path_never_passes_through_a_table_that_is_not_auto_joined() -> None:
    assert {"ACTIVE", "READ_ONLY"} == AUTO_JOINED_STATES
    # vendors ── legacy_links ── orders: legacy_links only has a DEPRECATED version.
    with pytest.raises(NoJoinPath) as caught:
        build_structured(q("vendors.name", "orders.total"), CATALOG)
    assert caught.value.extensions["unconnected"] == ["orders"]
    # Named explicitly it is the analyst's choice, and planning says what it says about such a table.
    with pytest.raises(TableNotQueryable):
        build_structured(q("vendors.name", "orders.total", "legacy_links.id"), CATALOG)


def test_a_pin_on_a_passed_through_table_decides_whether_it_is_auto_joined() -> None:
    catalog = CatalogSnapshot.of([*TABLES, _table("customers", "id name region_id credit", 50, "SHADOW", 2)], JOINS)
    pinned = PlanOptions(pins=(Pin("customers", 2),), may_view_shadow=True)
    with pytest.raises(AmbiguousJoinPath):
        build_structured(q("orders.id", "regions.name"), catalog)
    # Pinned to its SHADOW version, customers is no longer a table a path may go through.
    assert build_structured(q("orders.id", "regions.name"), catalog, pinned) == (
        "SELECT orders.id, regions.name FROM orders INNER JOIN stores ON orders.store_id = stores.id "
        "INNER JOIN regions ON stores.region_id = regions.id")


def test_unknown_and_invisible_tables_read_the_same() -> None:
    messages = set()
    for query, typed in ((q("nope.id"), "nope"), (q("orders.id", "staged.id"), "staged"),
                         (q("orders.id", via=["nope"]), "nope")):
        with pytest.raises(TableNotFound) as caught:
            build_structured(query, CATALOG)
        messages.add(caught.value.message.replace(typed, "<typed>"))
    assert len(messages) == 1
    # A caller who may see SHADOW versions may name them (pinned), and the accepted join is used.
    options = PlanOptions(may_view_shadow=True, pins=(Pin("staged", 1),))
    assert build_structured(q("orders.id", "staged.id"), CATALOG, options) == (
        "SELECT orders.id, staged.id FROM orders INNER JOIN staged ON staged.order_id = orders.id")


@pytest.mark.parametrize(("query", "field"), [
    (q(), None),
    (q("total"), "select[0]"),
    (q("orders.id", where=["total > 3"]), "where[0]"),
    (q("*"), "select[0]"),
    (q("orders.id", where=["orders.id IN (SELECT id FROM customers)"]), "where[0]"),
    (q("(SELECT 1) AS x"), "select[0]"),
    (q("public.orders.id"), "select[0]"),
    (q("orders.id", limit=-1), "limit"),
    (q("orders.id", where=["  "]), "where[0]"),
    (q("orders.id", via=[""]), "via[0]"),
    (q("orders.id", order_by=["revenue"]), "orderBy[0]"),
])
def test_items_that_cannot_be_placed_are_invalid_input(query: StructuredQuery, field: str | None) -> None:
    with pytest.raises(InvalidStructuredQuery) as caught:
        build_structured(query, CATALOG)
    assert caught.value.code == "INVALID_INPUT"
    assert caught.value.extensions.get("field") == field


@pytest.mark.parametrize(("query", "field"), [
    (q("orders.id", where=["orders.id = 1; DROP TABLE orders"]), "where[0]"),
    (q("orders.id FROM orders; DELETE FROM orders --"), "select[0]"),
    (q("orders.id", where=["orders.id = 1) OR (1 = 1"]), "where[0]"),
    (q("orders.id", order_by=["orders.id DESC, orders.total"]), "orderBy[0]"),
    (q("orders.id", group_by=["orders.id AS x"]), "groupBy[0]"),
])
def test_text_that_is_not_one_item_is_invalid_sql_never_spliced(query: StructuredQuery, field: str) -> None:
    with pytest.raises(InvalidSQL) as caught:
        build_structured(query, CATALOG)
    assert caught.value.extensions["field"] == field and caught.value.code == "INVALID_SQL"


def test_planning_checks_still_apply_to_what_is_built() -> None:
    with pytest.raises(PlannerError) as caught:
        plan_structured(q("orders.id", "load_extension(orders.id) AS x"), CATALOG)
    assert caught.value.code == "FORBIDDEN_FUNCTION"


def test_join_statistics_feed_fan_trap_and_explosive_join() -> None:
    fan = plan_structured(q("orders.id", "SUM(customers.credit) AS credit", group_by=["orders.id"]), CATALOG)
    assert "FAN_TRAP" in {g.type for g in fan.guardrails}
    explosive = plan_structured(q("clicks.id", "impressions.id"), CATALOG)
    [guardrail] = [g for g in explosive.guardrails if g.type == "EXPLOSIVE_JOIN"]
    assert guardrail.requires_override and "1,500" in guardrail.message
    calmer = CatalogSnapshot.of(TABLES, tuple(replace(j, fan_out=3.0) if j.id == "j_clicks_impressions" else j
                                              for j in JOINS))
    assert "EXPLOSIVE_JOIN" not in {g.type for g in plan_structured(q("clicks.id", "impressions.id"),
                                                                      calmer).guardrails}


def test_items_are_read_in_the_analyst_dialect() -> None:
    options = PlanOptions(warehouse_dialect="postgres", dialect="tsql")
    sql = build_structured(q("orders.id", "customers.name", order_by=["orders.id"], limit=3), CATALOG, options)
    assert sql == ("SELECT TOP 3 orders.id, customers.name FROM orders "
                   "INNER JOIN customers ON orders.customer_id = customers.id ORDER BY orders.id")
    assert plan_structured(q("orders.id", where=["ISNULL(orders.total, 0) > 1"]), CATALOG, options).sql == (
        'SELECT orders.id FROM "wh_orders_v1" AS orders WHERE COALESCE(orders.total, 0) > 1 LIMIT 10001')
