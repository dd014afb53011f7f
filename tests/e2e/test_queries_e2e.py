"""Preview → execute through GraphQL on SQLite and PostgreSQL warehouses; results equal the same
query run directly on the physical tables."""

from __future__ import annotations

import sqlite3
from typing import Any

import psycopg

from gateway.services.query_codec import json_rows
from tests.support.harness import Gateway
from tests.support.pg_warehouse import pg_dsn

PREVIEW = """mutation($sql: String!, $pins: [PinInput!]! = []) { previewQuery(input: {sql: $sql, pins: $pins}) {
  id sql originalSql dialect requiresConfirmation estimatedRows estimatedCostMs createdAt expiresAt
  tablesUsed { name version state physicalName rowCount }
  joins { joinId version joinType condition accepted }
  filters aggregations assumptions guardrails { type message requiresOverride } } }"""
EXECUTE = """mutation($id: ID!, $o: [GuardrailType!]) { executeQuery(previewId: $id, overrides: $o) {
  executionId previewId columns { name type } rows rowCount truncated elapsedMs
  explanation { plainEnglish tablesUsed joins filters aggregations assumptions } } }"""


def direct(warehouse_url: str, sql: str) -> list[list[Any]]:
    if warehouse_url.startswith("sqlite"):
        with sqlite3.connect(warehouse_url.removeprefix("sqlite:///")) as conn:
            rows = [list(r) for r in conn.execute(sql)]
    else:
        with psycopg.connect(pg_dsn(warehouse_url)) as conn:
            rows = [list(r) for r in conn.execute(sql)]
    return json_rows(rows)


async def preview(gw: Gateway, sql: str, role: str = "ANALYST", **kw: Any) -> dict[str, Any]:
    return (await gw.ok(PREVIEW, {"sql": sql, **kw}, role=role))["previewQuery"]


async def run(gw: Gateway, preview_id: str, role: str = "ANALYST", overrides: list[str] | None = None) -> dict[str, Any]:
    return (await gw.ok(EXECUTE, {"id": preview_id, "o": overrides}, role=role))["executeQuery"]


async def test_aggregate_matches_direct_query(query_gateway: Gateway, warehouse_url: str) -> None:
    sql = "SELECT status, COUNT(*) AS n, SUM(total) AS revenue FROM orders GROUP BY status ORDER BY status"
    p = await preview(query_gateway, sql)
    assert p["tablesUsed"] == [{"name": "orders", "version": 2, "state": "ACTIVE",
                                "physicalName": "orders__v2", "rowCount": p["tablesUsed"][0]["rowCount"]}]
    assert p["aggregations"] and p["originalSql"] == sql and "orders__v2" in p["sql"]
    result = await run(query_gateway, p["id"])
    expected = direct(warehouse_url, "SELECT status, COUNT(*) AS n, SUM(total) AS revenue FROM orders__v2 "
                                     "GROUP BY status ORDER BY status")
    assert result["rows"] == expected
    assert [c["name"] for c in result["columns"]] == ["status", "n", "revenue"]
    assert result["rowCount"] == len(expected) and not result["truncated"]
    assert result["explanation"]["plainEnglish"]


async def test_join_matches_direct_query(query_gateway: Gateway, warehouse_url: str) -> None:
    sql = ("SELECT c.country, COUNT(o.id) AS orders FROM orders o JOIN customers c ON o.customer_id = c.id "
           "GROUP BY c.country ORDER BY c.country")
    p = await preview(query_gateway, sql)
    assert {t["name"] for t in p["tablesUsed"]} == {"orders", "customers"}
    (join,) = p["joins"]
    assert join["accepted"] is False
    assert "UNVERIFIED_JOIN" in {g["type"] for g in p["guardrails"]}
    result = await run(query_gateway, p["id"])
    assert result["rows"] == direct(
        warehouse_url, "SELECT c.country, COUNT(o.id) AS orders FROM orders__v2 o JOIN customers c "
                       "ON o.customer_id = c.id GROUP BY c.country ORDER BY c.country")


async def test_pinned_deprecated_version_warns_and_runs(query_gateway: Gateway, warehouse_url: str) -> None:
    p = await preview(query_gateway, "SELECT COUNT(*) AS n FROM orders", pins=[{"table": "orders", "version": 1}])
    assert p["tablesUsed"][0]["version"] == 1 and p["tablesUsed"][0]["state"] == "DEPRECATED"
    assert "DEPRECATED_TABLE" in {g["type"] for g in p["guardrails"]}
    result = await run(query_gateway, p["id"])
    assert result["rows"] == direct(warehouse_url, "SELECT COUNT(*) AS n FROM orders__v1")


async def test_shadow_only_for_engineers_who_pin(query_gateway: Gateway) -> None:
    sql = "SELECT COUNT(*) FROM order_events"
    pins = [{"table": "order_events", "version": 1}]
    for role in ("VIEWER", "ANALYST"):
        body = await query_gateway.gql(PREVIEW, {"sql": sql, "pins": pins}, role=role)
        assert body["errors"][0]["extensions"]["code"] == "TABLE_NOT_FOUND"
        assert "spyne_shadow" not in str(body)
    body = await query_gateway.gql(PREVIEW, {"sql": sql}, role="ENGINEER")
    assert body["errors"][0]["extensions"]["code"] in ("TABLE_NOT_FOUND", "TABLE_NOT_QUERYABLE")
    p = await preview(query_gateway, sql, role="ENGINEER", pins=pins)
    assert p["tablesUsed"][0]["state"] == "SHADOW"
    assert (await run(query_gateway, p["id"], role="ENGINEER"))["rowCount"] == 1


async def test_physical_names_typed_by_hand_never_reach_a_table(query_gateway: Gateway) -> None:
    for sql in ('SELECT * FROM orders__v2', 'SELECT * FROM "ORDERS__V1"', "SELECT * FROM main.customers",
                "SELECT * FROM spyne_shadow__order_events__v1"):
        body = await query_gateway.gql(PREVIEW, {"sql": sql}, role="ADMIN")
        assert body["errors"][0]["extensions"]["code"] == "TABLE_NOT_FOUND", sql


async def test_refusals_carry_their_codes(query_gateway: Gateway) -> None:
    cases = {
        "DELETE FROM orders": "NOT_A_QUERY",
        "SELECT 1; SELECT 2": "NOT_A_QUERY",
        "WITH x AS (DELETE FROM orders RETURNING *) SELECT * FROM x": "NOT_A_QUERY",
        "SELECT load_extension('x')": "FORBIDDEN_FUNCTION",
        "SELEC * FROM orders": "INVALID_SQL",
    }
    for sql, code in cases.items():
        body = await query_gateway.gql(PREVIEW, {"sql": sql})
        assert body["errors"][0]["extensions"]["code"] == code, (sql, body["errors"])
    body = await query_gateway.gql(PREVIEW, {"sql": "SELECT id FROM orders WHERE (id = 1"})
    assert body["errors"][0]["extensions"]["code"] == "INVALID_SQL"
    assert body["errors"][0]["extensions"]["line"] >= 1 and "column" in body["errors"][0]["extensions"]


async def test_guardrail_needs_override(query_gateway: Gateway) -> None:
    p = await preview(query_gateway, "SELECT COUNT(*) AS n FROM products, customers")
    needed = {g["type"] for g in p["guardrails"] if g["requiresOverride"]}
    assert "CARTESIAN_PRODUCT" in needed and p["requiresConfirmation"]
    body = await query_gateway.gql(EXECUTE, {"id": p["id"], "o": []}, role="ANALYST")
    assert body["errors"][0]["extensions"]["code"] == "GUARDRAIL_BLOCKED"
    assert "CARTESIAN_PRODUCT" in body["errors"][0]["extensions"]["missing"]
    result = await run(query_gateway, p["id"], overrides=sorted(needed))
    assert result["rowCount"] == 1


async def test_stale_preview_after_a_promotion_changes_resolution(query_gateway: Gateway) -> None:
    p = await preview(query_gateway, "SELECT COUNT(*) FROM orders")
    await query_gateway.ok('mutation { deprecateTable(table: "orders", version: 2) { table { name } } }')
    body = await query_gateway.gql(EXECUTE, {"id": p["id"]}, role="ANALYST")
    assert body["errors"][0]["extensions"]["code"] == "STALE_PREVIEW"


async def test_only_the_author_or_an_admin_runs_a_preview(query_gateway: Gateway) -> None:
    p = await preview(query_gateway, "SELECT COUNT(*) FROM customers", role="ANALYST")
    body = await query_gateway.gql(EXECUTE, {"id": p["id"]}, role="ANALYST", email="other@example.com")
    assert body["errors"][0]["extensions"]["code"] == "PREVIEW_NOT_FOUND"
    body = await query_gateway.gql('query($id: ID!) { queryPreview(id: $id) { id } }', {"id": p["id"]},
                                   role="VIEWER", email="other@example.com")
    assert body["errors"][0]["extensions"]["code"] == "PREVIEW_NOT_FOUND"
    assert (await run(query_gateway, p["id"], role="ADMIN"))["rowCount"] == 1
    assert await query_gateway.error_code(EXECUTE, {"id": "no-such-id"}) == "PREVIEW_NOT_FOUND"


async def test_row_cap_truncates(query_gateway: Gateway) -> None:
    query_gateway.services.queries._max_rows = 5
    p = await preview(query_gateway, "SELECT id FROM customers ORDER BY id")
    # One row past the cap is fetched, so the executor can tell a truncated result from a full one.
    assert p["sql"].upper().rstrip().endswith("LIMIT 6")
    result = await run(query_gateway, p["id"])
    assert result["rowCount"] == 5 and result["truncated"] is True


async def test_statement_timeout(query_gateway: Gateway) -> None:
    query_gateway.services.deps.warehouse.statement_timeout_ms = 50
    sql = "SELECT COUNT(*) FROM order_items a, order_items b, order_items c"
    p = await preview(query_gateway, sql)
    needed = sorted({g["type"] for g in p["guardrails"] if g["requiresOverride"]})
    body = await query_gateway.gql(EXECUTE, {"id": p["id"], "o": needed}, role="ANALYST")
    assert body["errors"][0]["extensions"]["code"] == "TIMEOUT"


async def test_every_execution_is_recorded(query_gateway: Gateway) -> None:
    p = await preview(query_gateway, "SELECT COUNT(*) FROM products")
    await run(query_gateway, p["id"])
    async with query_gateway.services.deps.uow() as uow:
        executions = await uow.queries.executions()
    (execution,) = executions
    assert execution["status"] == "OK" and execution["actor"] == "analyst@example.com"
    assert execution["tables"] == [{"name": "products", "version": 1, "state": "READ_ONLY"}]


async def test_skip_preview_needs_a_reason_and_is_audited(query_gateway: Gateway) -> None:
    doc = """mutation($r: String!) { executeQuery(skipPreview: {sql: "SELECT COUNT(*) AS n FROM products", reason: $r}) {
      rowCount previewId } }"""
    assert await query_gateway.error_code(doc, {"r": "  "}) == "INVALID_INPUT"
    # A capability of automation accounts (ENGINEER+), not of analysts at a keyboard.
    assert await query_gateway.error_code(doc, {"r": "nightly export job"}, role="ANALYST") == "FORBIDDEN"
    result = (await query_gateway.ok(doc, {"r": "nightly export job"}, role="ENGINEER"))["executeQuery"]
    assert result["rowCount"] == 1
    events = (await query_gateway.ok('{ auditLog(first: 5) { events { action after } } }'))["auditLog"]["events"]
    assert events[0]["action"] == "skipPreview" and events[0]["after"] == {"reason": "nightly export job"}
    assert await query_gateway.error_code('mutation { executeQuery { rowCount } }') == "INVALID_INPUT"


async def test_correction_yields_a_linked_preview(query_gateway: Gateway) -> None:
    p = await preview(query_gateway, "SELECT id FROM customers")
    doc = """mutation($id: ID!) { correctQuery(previewId: $id, corrections: [{kind: SET_LIMIT, limit: 3}]) {
      id parentId sql originalSql } }"""
    corrected = (await query_gateway.ok(doc, {"id": p["id"]}, role="ANALYST"))["correctQuery"]
    assert corrected["parentId"] == p["id"] and corrected["id"] != p["id"]
    assert (await run(query_gateway, corrected["id"]))["rowCount"] == 3
    assert await query_gateway.error_code(doc, {"id": p["id"]}, role="VIEWER") == "FORBIDDEN"


async def test_validate_query_stores_nothing(query_gateway: Gateway) -> None:
    doc = 'query($s: String!) { validateQuery(sql: $s) { valid warnings { type } errors { code line column } } }'
    ok = (await query_gateway.ok(doc, {"s": "SELECT * FROM products, customers"}, role="VIEWER"))["validateQuery"]
    assert ok["valid"] and "CARTESIAN_PRODUCT" in {w["type"] for w in ok["warnings"]}
    bad = (await query_gateway.ok(doc, {"s": "DROP TABLE orders"}, role="VIEWER"))["validateQuery"]
    assert not bad["valid"] and bad["errors"][0]["code"] == "NOT_A_QUERY"
    async with query_gateway.services.deps.uow() as uow:
        assert await uow.queries.executions() == []
