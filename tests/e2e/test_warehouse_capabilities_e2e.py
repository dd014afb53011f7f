"""What the warehouse runs, through GraphQL on SQLite and PostgreSQL: what previews runs; what the
warehouse cannot run is refused at preview with a code naming it; a VIEWER cannot make one function
call build gigabytes (issue 14, item 2)."""

from __future__ import annotations

from typing import Any

from tests.e2e.test_queries_e2e import direct, preview, run
from tests.support.harness import Gateway

PREVIEW_ERROR = """mutation($sql: String!, $dialect: String) { previewQuery(input: {sql: $sql, dialect: $dialect}) { id } }"""


async def _refusal(gw: Gateway, sql: str, role: str = "VIEWER", dialect: str | None = None) -> dict[str, Any]:
    body = await gw.gql(PREVIEW_ERROR, {"sql": sql, "dialect": dialect}, role=role)
    assert body.get("errors"), body
    error: dict[str, Any] = body["errors"][0]
    return error


def _is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


async def test_a_viewer_cannot_make_printf_build_gigabytes(query_gateway: Gateway, warehouse_url: str) -> None:
    sql = "SELECT length(printf('%.*c', 200000000, 'x')) AS n FROM orders"
    error = await _refusal(query_gateway, sql, dialect="sqlite")
    assert error["extensions"]["code"] == ("FUNCTION_LIMIT" if _is_sqlite(warehouse_url) else "WAREHOUSE_UNSUPPORTED")
    error = await _refusal(query_gateway, "SELECT repeat('x', 200000000) AS n FROM orders", dialect="postgres")
    assert error["extensions"]["code"] == "FUNCTION_LIMIT"
    assert error["extensions"]["function"] == "REPEAT"


async def test_what_the_warehouse_lacks_is_refused_at_preview(query_gateway: Gateway, warehouse_url: str) -> None:
    sql = "SELECT status, STDDEV_SAMP(total) AS spread FROM orders GROUP BY status ORDER BY status"
    if _is_sqlite(warehouse_url):
        error = await _refusal(query_gateway, sql, role="ANALYST", dialect="postgres")
        assert error["extensions"]["code"] == "WAREHOUSE_UNSUPPORTED"
        assert error["extensions"]["warehouse"] == "sqlite" and "SQLite" in error["message"]
        return
    p = await preview(query_gateway, sql)
    assert (await run(query_gateway, p["id"]))["rowCount"] > 0


async def test_rollup_runs_where_the_warehouse_runs_it(query_gateway: Gateway, warehouse_url: str) -> None:
    sql = ("SELECT status, channel, COUNT(*) AS n FROM orders GROUP BY ROLLUP (status, channel) "
           "ORDER BY status, channel")
    if _is_sqlite(warehouse_url):
        error = await _refusal(query_gateway, sql, role="ANALYST")
        assert error["extensions"]["code"] == "WAREHOUSE_UNSUPPORTED"
        assert error["extensions"]["feature"] == "ROLLUP"
        return
    p = await preview(query_gateway, sql)
    result = await run(query_gateway, p["id"])
    assert result["rows"] == direct(warehouse_url, sql.replace("FROM orders", "FROM orders__v2"))


async def test_set_operations_and_derived_tables_run_as_written(query_gateway: Gateway, warehouse_url: str) -> None:
    sql = ("SELECT n FROM (SELECT COUNT(*) AS n FROM orders WHERE status = 'paid') "
           "UNION ALL (SELECT COUNT(*) FROM customers) ORDER BY n")
    p = await preview(query_gateway, sql)
    result = await run(query_gateway, p["id"])
    assert result["rowCount"] == 2
