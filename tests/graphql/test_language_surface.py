"""The IDE's language surface through the real GraphQL endpoint, on SQLite and PostgreSQL catalogs:
diagnostics at exact ranges with quick fixes, completions that respect visibility, formatting."""

from __future__ import annotations

from typing import Any

from tests.support.harness import Gateway

VALIDATE = """query($sql: String!, $dialect: String) { validateQuery(sql: $sql, dialect: $dialect) {
  valid warnings { type } errors { code message line column }
  diagnostics { code severity message range { start { line column } end { line column } }
                suggestions { message replacement range { start { line column } end { line column } } } } } }"""
COMPLETE = """query($sql: String!, $line: Int!, $column: Int!) { completeQuery(sql: $sql, line: $line, column: $column) {
  range { start { line column } end { line column } } items { label kind insertText detail state type table } } }"""
FORMAT = """query($sql: String!, $dialect: String) { formatQuery(sql: $sql, dialect: $dialect) }"""


def _range(line: int, start: int, end: int) -> dict[str, Any]:
    return {"start": {"line": line, "column": start}, "end": {"line": line, "column": end}}


async def validate(gw: Gateway, sql: str, role: str = "ANALYST") -> dict[str, Any]:
    return (await gw.ok(VALIDATE, {"sql": sql}, role=role))["validateQuery"]


async def complete(gw: Gateway, sql: str, line: int, column: int, role: str = "ANALYST") -> dict[str, Any]:
    return (await gw.ok(COMPLETE, {"sql": sql, "line": line, "column": column}, role=role))["completeQuery"]


async def test_unknown_column_points_at_it_and_suggests_the_nearest(gateway: Gateway) -> None:
    v = await validate(gateway, "SELECT statuz FROM orders")
    assert v["valid"] is False and v["errors"][0]["code"] == "COLUMN_NOT_FOUND"
    (d,) = v["diagnostics"]
    assert d["code"] == "COLUMN_NOT_FOUND" and d["severity"] == "ERROR" and d["range"] == _range(1, 8, 14)
    assert d["suggestions"] == [{"message": "Did you mean status?", "replacement": "status", "range": _range(1, 8, 14)}]


async def test_every_unknown_column_is_a_diagnostic(gateway: Gateway) -> None:
    v = await validate(gateway, "SELECT statuz,\n       totl\nFROM orders")
    assert [(d["code"], d["range"]["start"]["line"], d["suggestions"][0]["replacement"]) for d in v["diagnostics"]] == [
        ("COLUMN_NOT_FOUND", 1, "status"), ("COLUMN_NOT_FOUND", 2, "total")]


async def test_ambiguous_column_offers_each_qualification(gateway: Gateway) -> None:
    v = await validate(gateway, "SELECT id FROM orders o JOIN customers c ON o.customer_id = c.id")
    (d,) = v["diagnostics"]
    assert d["code"] == "AMBIGUOUS_COLUMN" and d["range"] == _range(1, 8, 10)
    assert [s["replacement"] for s in d["suggestions"]] == ["o.id", "c.id"]


async def test_mistyped_keyword_is_blamed_not_the_next_token(gateway: Gateway) -> None:
    v = await validate(gateway, "SELEC status FROM orders")
    (d,) = v["diagnostics"]
    assert d["code"] == "INVALID_SQL" and d["range"] == _range(1, 1, 6)
    assert d["suggestions"][0]["replacement"] == "SELECT"
    assert v["errors"][0]["line"] == 1 and v["errors"][0]["column"] == 1


async def test_unknown_table_names_itself_and_never_suggests_a_shadow_table(gateway: Gateway) -> None:
    v = await validate(gateway, "SELECT * FROM ordrs")
    (d,) = v["diagnostics"]
    assert d["code"] == "TABLE_NOT_FOUND" and "'ordrs'" in d["message"] and d["range"] == _range(1, 15, 20)
    assert "orders" in [s["replacement"] for s in d["suggestions"]]
    analyst = await validate(gateway, "SELECT * FROM order_event")
    assert all("order_events" not in s["replacement"] for s in analyst["diagnostics"][0]["suggestions"])
    assert "order_events" not in analyst["diagnostics"][0]["message"]
    engineer = await validate(gateway, "SELECT * FROM order_event", role="ENGINEER")
    assert "order_events" in [s["replacement"] for s in engineer["diagnostics"][0]["suggestions"]]


async def test_guardrails_are_warnings_of_a_valid_query(gateway: Gateway) -> None:
    v = await validate(gateway, "SELECT COUNT(*) FROM products, customers")
    assert v["valid"] is True and {w["type"] for w in v["warnings"]} >= {"CARTESIAN_PRODUCT"}
    assert {d["code"] for d in v["diagnostics"]} == {w["type"] for w in v["warnings"]}
    assert {d["severity"] for d in v["diagnostics"]} == {"WARNING"}
    # At what it is about: the table joined without a condition, not the whole query.
    (cartesian,) = [d for d in v["diagnostics"] if d["code"] == "CARTESIAN_PRODUCT"]
    assert cartesian["range"] == _range(1, 32, 41)


async def test_completion_offers_visible_tables_with_state(gateway: Gateway) -> None:
    c = await complete(gateway, "SELECT * FROM ord", 1, 18)
    assert c["range"] == _range(1, 15, 18)
    tables = {i["label"]: i["state"] for i in c["items"] if i["kind"] == "TABLE"}
    assert tables == {"orders": "ACTIVE", "order_items": "READ_ONLY"}  # never the SHADOW order_events
    engineer = await complete(gateway, "SELECT * FROM ord", 1, 18, role="ENGINEER")
    assert "order_events" in {i["label"] for i in engineer["items"]}


async def test_completion_offers_columns_with_types_after_an_alias(gateway: Gateway) -> None:
    c = await complete(gateway, "SELECT o. FROM orders o", 1, 10)
    columns = {i["label"]: i for i in c["items"]}
    assert set(columns) == {"id", "customer_id", "status", "channel", "ordered_at", "total"}
    assert columns["status"]["kind"] == "COLUMN" and columns["status"]["table"] == "orders"
    assert columns["status"]["type"]


async def test_completion_offers_accepted_join_conditions_after_on(gateway: Gateway) -> None:
    c = await complete(gateway, "SELECT * FROM orders o JOIN customers c ON ", 1, 44)
    kinds = [i["kind"] for i in c["items"]]
    assert "COLUMN" in kinds and "FUNCTION" in kinds and "KEYWORD" in kinds


async def test_completion_of_a_shadow_table_gives_no_columns_to_an_analyst(gateway: Gateway) -> None:
    c = await complete(gateway, "SELECT e. FROM order_events e", 1, 10)
    assert c["items"] == []
    engineer = await complete(gateway, "SELECT e. FROM order_events e", 1, 10, role="ENGINEER")
    assert "event_type" in {i["label"] for i in engineer["items"]}


async def test_format_pretty_prints_and_keeps_comments(gateway: Gateway) -> None:
    data = await gateway.ok(FORMAT, {"sql": "select status, count(*) /* n */ from orders group by status"},
                            role="VIEWER")
    assert data["formatQuery"] == "SELECT\n  status,\n  COUNT(*) /* n */\nFROM orders\nGROUP BY\n  status"


async def test_format_of_bad_sql_is_invalid_sql_at_its_place(gateway: Gateway) -> None:
    body = await gateway.gql(FORMAT, {"sql": "SELECT a FROM t WHER x = 1"}, role="VIEWER")
    ext = body["errors"][0]["extensions"]
    assert ext["code"] == "INVALID_SQL" and (ext["line"], ext["column"], ext["endColumn"]) == (1, 17, 21)
    assert ext["suggestions"] == ["WHERE"]


async def test_language_fields_need_a_token(gateway: Gateway) -> None:
    assert await gateway.error_code(FORMAT, {"sql": "SELECT 1"}, role=None) == "UNAUTHENTICATED"
    assert await gateway.error_code(COMPLETE, {"sql": "SELECT 1", "line": 1, "column": 1}, role=None) \
        == "UNAUTHENTICATED"


PREVIEW = """mutation($sql: String!) { previewQuery(input: {sql: $sql}) { id columns { name type } } }"""


async def test_preview_lists_star_as_the_resolved_versions_columns(gateway: Gateway) -> None:
    data = await gateway.ok(PREVIEW, {"sql": "SELECT * FROM orders"}, role="ANALYST")
    assert [c["name"] for c in data["previewQuery"]["columns"]] == [
        "id", "customer_id", "status", "channel", "ordered_at", "total"]  # v2, the ACTIVE version
    assert all(c["type"] for c in data["previewQuery"]["columns"])


async def test_preview_of_an_unknown_column_is_refused_at_its_place(gateway: Gateway) -> None:
    body = await gateway.gql(PREVIEW, {"sql": "SELECT id,\n  statuz FROM orders"}, role="ANALYST")
    ext = body["errors"][0]["extensions"]
    assert ext["code"] == "COLUMN_NOT_FOUND"
    assert (ext["line"], ext["column"], ext["endLine"], ext["endColumn"]) == (2, 3, 2, 9)
    assert ext["suggestions"] == ["status"]
