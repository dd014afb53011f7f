"""What the configured warehouse cannot run, through the real GraphQL endpoint: each per-warehouse
refusal (WAREHOUSE_UNSUPPORTED, WAREHOUSE_LIMIT, FUNCTION_LIMIT) is a diagnostic at the exact text
the analyst sent, and previewQuery's error carries the same range. On a PostgreSQL warehouse, a
boolean compared with 1/0 in the SQLite dialect runs with SQLite's meaning, and a LATERAL derived
table may name the tables to its left and nothing after it, as PostgreSQL decides."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest

from gateway.services.demo import load_demo_catalog
from gateway.warehouse.demo_data import DemoSummary
from tests.e2e.test_queries_e2e import direct
from tests.graphql.test_language_surface import validate
from tests.support.harness import Gateway, start_gateway, stop_gateway

PREVIEW = """mutation($sql: String!, $dialect: String) { previewQuery(input: {sql: $sql, dialect: $dialect}) {
  id sql } }"""
EXECUTE = """mutation($id: ID!) { executeQuery(previewId: $id, overrides: [MISSING_FILTER_LARGE_TABLE]) {
  rows rowCount } }"""


def _range(start: tuple[int, int], end: tuple[int, int]) -> dict[str, Any]:
    return {"start": {"line": start[0], "column": start[1]}, "end": {"line": end[0], "column": end[1]}}


def _text(sql: str, rng: dict[str, Any]) -> str:
    lines = sql.split("\n")
    (sl, sc), (el, ec) = ((rng[k]["line"], rng[k]["column"]) for k in ("start", "end"))
    if sl == el:
        return lines[sl - 1][sc - 1:ec - 1]
    return "\n".join([lines[sl - 1][sc - 1:], *lines[sl:el - 1], lines[el - 1][:ec - 1]])


# (SQL on the SQLite demo warehouse, code, the exact text the diagnostic covers)
CASES = [
    ("SELECT STDDEV_SAMP(total) AS s FROM orders", "WAREHOUSE_UNSUPPORTED", "STDDEV_SAMP(total)"),
    ("SELECT status, COUNT(*)\nFROM orders\nGROUP BY ROLLUP (status, channel)", "WAREHOUSE_UNSUPPORTED",
     "ROLLUP (status, channel)"),
    ("SELECT o.id, l.n\nFROM orders o,\n  LATERAL (SELECT COUNT(*) AS n FROM order_items i\n"
     "           WHERE i.order_id = o.id) AS l", "WAREHOUSE_UNSUPPORTED",
     "LATERAL (SELECT COUNT(*) AS n FROM order_items i\n           WHERE i.order_id = o.id) AS l"),
    ("SELECT LPAD(status, 12, '*') FROM orders", "WAREHOUSE_UNSUPPORTED", "LPAD(status, 12, '*')"),
    ("SELECT id,\n       REPEAT(status, customer_id) AS r\nFROM orders", "FUNCTION_LIMIT",
     "REPEAT(status, customer_id)"),
    ("SELECT printf('%.*c', 200000000, 'x') AS big", "FUNCTION_LIMIT", "printf('%.*c', 200000000, 'x')"),
    ("SELECT id FROM orders WHERE id = " + "(" * 120 + "1" + ")" * 120, "WAREHOUSE_LIMIT",
     "(" * 120 + "1" + ")" * 120),
]


@pytest.mark.parametrize(("sql", "code", "text"), CASES, ids=[c[1] + ":" + c[2][:20] for c in CASES])
async def test_a_warehouse_refusal_points_at_the_offending_text(gateway: Gateway, sql: str, code: str,
                                                                text: str) -> None:
    v = await validate(gateway, sql)
    assert v["valid"] is False
    (d,) = v["diagnostics"]
    assert d["code"] == code and d["severity"] == "ERROR"
    assert _text(sql, d["range"]) == text, d["range"]
    body = await gateway.gql(PREVIEW, {"sql": sql})
    ext = body["errors"][0]["extensions"]
    assert ext["code"] == code
    assert _range((ext["line"], ext["column"]), (ext["endLine"], ext["endColumn"])) == d["range"]


@pytest.fixture
async def pg_gateway(catalog_url: str, demo_warehouse: DemoSummary, pg_demo_warehouse: str) -> AsyncIterator[Gateway]:
    gw = await start_gateway(catalog_url, pg_demo_warehouse)
    await load_demo_catalog(gw.services.deps, demo_warehouse)
    try:
        yield gw
    finally:
        await stop_gateway(gw)


async def test_a_sqlite_boolean_compared_with_1_runs_on_postgres_as_on_sqlite(pg_gateway: Gateway,
                                                                             gateway: Gateway) -> None:
    sql = "SELECT COUNT(*) AS n FROM products WHERE active = 1 OR (active = 0 AND price > 100)"
    answers = []
    for gw in (pg_gateway, gateway):
        preview = (await gw.ok(PREVIEW, {"sql": sql, "dialect": "sqlite"}))["previewQuery"]
        answers.append((await gw.ok(EXECUTE, {"id": preview["id"]}))["executeQuery"]["rows"])
    assert "active = TRUE" in (await pg_gateway.ok(PREVIEW, {"sql": sql, "dialect": "sqlite"}))["previewQuery"]["sql"]
    assert answers[0] == answers[1] and answers[0][0][0] > 0


async def test_a_sqlite_boolean_compared_with_2_is_refused_at_the_comparison(pg_gateway: Gateway) -> None:
    sql = "SELECT id FROM products\nWHERE active = 2"
    v = await pg_gateway.ok("""query($sql: String!) { validateQuery(sql: $sql, dialect: "sqlite") {
      diagnostics { code range { start { line column } end { line column } } } } }""", {"sql": sql})
    (d,) = v["validateQuery"]["diagnostics"]
    assert d["code"] == "WAREHOUSE_UNSUPPORTED" and _text(sql, d["range"]) == "active = 2"


async def test_a_postgres_boolean_compared_with_1_in_postgres_sql_is_refused_with_its_quick_fix(
        pg_gateway: Gateway) -> None:
    # PostgreSQL itself would refuse it at execution ("operator does not exist: boolean = integer").
    sql = "SELECT id FROM products\nWHERE active = 1"
    v = await pg_gateway.ok("""query($sql: String!) { validateQuery(sql: $sql, dialect: "postgres") {
      valid diagnostics { code range { start { line column } end { line column } }
        suggestions { replacement range { start { line column } end { line column } } } } } }""", {"sql": sql})
    (d,) = v["validateQuery"]["diagnostics"]
    assert v["validateQuery"]["valid"] is False
    assert d["code"] == "WAREHOUSE_UNSUPPORTED" and _text(sql, d["range"]) == "active = 1"
    (fix,) = d["suggestions"]
    assert fix["replacement"] == "TRUE" and _text(sql, fix["range"]) == "1"
    fixed = "SELECT id FROM products\nWHERE active = TRUE"
    preview = (await pg_gateway.ok(PREVIEW, {"sql": fixed, "dialect": "postgres"}))["previewQuery"]
    assert (await pg_gateway.ok(EXECUTE, {"id": preview["id"]}))["executeQuery"]["rows"]


EXECUTE_ANY = """mutation($id: ID!) { executeQuery(previewId: $id,
  overrides: [CARTESIAN_PRODUCT, EXPLOSIVE_JOIN, MISSING_FILTER_LARGE_TABLE]) { rows } }"""


async def test_a_lateral_derived_table_reads_the_tables_to_its_left_on_postgres(pg_gateway: Gateway,
                                                                                pg_demo_warehouse: str) -> None:
    sql = ("SELECT o.id, l.items FROM orders o,\n  LATERAL (SELECT COUNT(*) AS items FROM order_items i "
           "WHERE i.order_id = o.id) AS l\nWHERE o.id <= 20 ORDER BY o.id")
    v = await validate(pg_gateway, sql)
    assert v["valid"] is True and not [d for d in v["diagnostics"] if d["severity"] == "ERROR"]
    preview = (await pg_gateway.ok(PREVIEW, {"sql": sql}))["previewQuery"]
    rows = (await pg_gateway.ok(EXECUTE_ANY, {"id": preview["id"]}))["executeQuery"]["rows"]
    assert rows and any(items > 0 for _, items in rows)
    assert rows == direct(pg_demo_warehouse, "SELECT o.id, (SELECT COUNT(*) FROM order_items i WHERE i.order_id = o.id) "
                                             "FROM orders__v2 o WHERE o.id <= 20 ORDER BY o.id")


async def test_a_lateral_reference_to_a_table_on_its_right_is_refused_as_postgres_refuses_it(
        pg_gateway: Gateway, pg_demo_warehouse: str) -> None:
    sql = ("SELECT o.id, l.n FROM orders o,\n  LATERAL (SELECT COUNT(*) AS n FROM order_items i "
           "WHERE i.product_id = p.id) AS l,\n  products p")
    v = await validate(pg_gateway, sql)
    (d,) = v["diagnostics"]
    assert d["code"] == "COLUMN_NOT_FOUND" and _text(sql, d["range"]) == "p"
    assert d["range"]["start"]["line"] == 2
    with pytest.raises(psycopg.errors.Error, match="FROM-clause entry"):  # the warehouse agrees
        direct(pg_demo_warehouse, sql.replace("orders o", "orders__v2 o"))
