"""Join-aware planning end to end: accepted joins in analyst SQL and in structured queries.

On SQLite and PostgreSQL warehouses (the catalog on the same backend): the join warehouse of
``tests/joins/warehouse.py`` plus three traps of its own —

- ``clicks.campaign_id ↔ impressions.campaign_id``: every row shares one campaign, an accepted
  many-to-many whose measured fan-out (1,200) is past the EXPLOSIVE_JOIN threshold;
- ``payments.account_no → accounts.account_no``: unique on the accounts side in the data, but no
  declared key, so only the accepted join's statistics can say it is many-to-one (FAN_TRAP);
- ``line_notes (order_id, line_no) → order_lines``: a composite declared foreign key, for the
  order of conjuncts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from gateway.domain import STATE_PROPERTIES
from gateway.store.engine import sync_url
from planner.structured import AUTO_JOINED_STATES
from tests.joins.test_join_decisions import accept, candidate_id
from tests.joins.warehouse import TABLES, build_join_warehouse
from tests.support.databases import create_pg_database, drop_pg_database
from tests.support.harness import Gateway, start_gateway, stop_gateway

EXTRA_DDL = (
    "CREATE TABLE clicks (id INTEGER PRIMARY KEY, campaign_id INTEGER)",
    "CREATE TABLE impressions (id INTEGER PRIMARY KEY, campaign_id INTEGER)",
    "CREATE TABLE accounts (account_no INTEGER, credit INTEGER)",
    "CREATE TABLE payments (id INTEGER PRIMARY KEY, account_no INTEGER, amount INTEGER)",
    "CREATE TABLE order_lines (order_id INTEGER, line_no INTEGER, qty INTEGER, PRIMARY KEY (order_id, line_no))",
    "CREATE TABLE line_notes (id INTEGER PRIMARY KEY, order_id INTEGER, line_no INTEGER, note VARCHAR(20), "
    "FOREIGN KEY (order_id, line_no) REFERENCES order_lines (order_id, line_no))",
)
EXTRA_TABLES = ("clicks", "impressions", "accounts", "payments", "order_lines", "line_notes")
FAN = 1_200


def extra_rows() -> dict[str, list[dict[str, object]]]:
    return {
        "clicks": [{"id": i, "campaign_id": 1} for i in range(1, FAN + 1)],
        "impressions": [{"id": i, "campaign_id": 1} for i in range(1, FAN + 1)],
        "accounts": [{"account_no": i, "credit": 100 * i} for i in range(1, 21)],
        "payments": [{"id": i, "account_no": i % 20 + 1, "amount": i} for i in range(1, 201)],
        "order_lines": [{"order_id": o, "line_no": n, "qty": o + n} for o in range(1, 21) for n in (1, 2)],
        "line_notes": [{"id": i, "order_id": i % 20 + 1, "line_no": i % 2 + 1, "note": f"n{i}"}
                       for i in range(1, 31)],
    }


def build_planning_warehouse(url: str) -> None:
    build_join_warehouse(url)
    engine = create_engine(sync_url(url), poolclass=NullPool)
    data = extra_rows()
    with engine.begin() as conn:
        for statement in EXTRA_DDL:
            conn.execute(text(statement))
        for table in EXTRA_TABLES:
            batch = data[table]
            columns = list(batch[0])
            conn.execute(text(f"INSERT INTO {table} ({', '.join(columns)}) "
                              f"VALUES ({', '.join(':' + c for c in columns)})"), batch)
    engine.dispose()


@pytest.fixture(scope="module")
def sqlite_planning_warehouse(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('join_planning') / 'warehouse.db'}"
    build_planning_warehouse(url)
    return url


@pytest.fixture(scope="module")
def pg_planning_warehouse() -> Iterator[str]:
    url = create_pg_database("spyne_test_join_planning")
    try:
        build_planning_warehouse(url)
        yield url
    finally:
        drop_pg_database(url)


@pytest.fixture
def warehouse_url(catalog_url: str, request: pytest.FixtureRequest) -> str:
    postgres = catalog_url.startswith("postgresql")
    return str(request.getfixturevalue("pg_planning_warehouse" if postgres else "sqlite_planning_warehouse"))


@pytest.fixture
async def gw(catalog_url: str, warehouse_url: str, tmp_path: Path) -> AsyncIterator[Gateway]:
    gateway = await start_gateway(catalog_url, warehouse_url)
    try:
        for name in (*TABLES, *EXTRA_TABLES):
            await gateway.ok(REGISTER, {"name": name}, role="ADMIN")
        yield gateway
    finally:
        await stop_gateway(gateway)


REGISTER = """mutation($name: String!) { registerTable(input: {name: $name, physicalName: $name}) { name } }"""
PREVIEW_FIELDS = """id sql originalSql analystSql requiresConfirmation
  joins { joinId version joinType condition accepted leftTable rightTable }
  guardrails { type message requiresOverride }"""
PREVIEW_SQL = f"""mutation($sql: String!) {{ previewQuery(input: {{sql: $sql}}) {{ {PREVIEW_FIELDS} }} }}"""
PREVIEW_STRUCTURED = f"""mutation($i: PreviewQueryInput!) {{ previewQuery(input: $i) {{ {PREVIEW_FIELDS} }} }}"""
EXECUTE = """mutation($id: ID!, $o: [GuardrailType!]) { executeQuery(previewId: $id, overrides: $o) {
  rowCount rows columns { name } explanation { joins } } }"""
CORRECT = """mutation($id: ID!, $c: [CorrectionInput!]!) { correctQuery(previewId: $id, corrections: $c) {
  id parentId originalSql sql joins { joinId accepted } } }"""
JOINS = """query($t: String) { joins(table: $t) { id version condition usageCount } }"""


async def accept_join(gw: Gateway, t1: str, t2: str, condition: str) -> dict[str, Any]:
    return await accept(gw, await candidate_id(gw, t1, t2, condition))


async def preview_sql(gw: Gateway, sql: str) -> dict[str, Any]:
    return (await gw.ok(PREVIEW_SQL, {"sql": sql}, role="ANALYST"))["previewQuery"]  # type: ignore[no-any-return]


async def preview_structured(gw: Gateway, **structured: Any) -> dict[str, Any]:
    data = await gw.ok(PREVIEW_STRUCTURED, {"i": structured}, role="ANALYST")
    return data["previewQuery"]  # type: ignore[no-any-return]


def types(preview: dict[str, Any]) -> set[str]:
    return {g["type"] for g in preview["guardrails"]}


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def direct(url: str, sql: str) -> list[list[Any]]:
    engine = create_engine(sync_url(url), poolclass=NullPool)
    with engine.connect() as conn:
        rows = [list(r) for r in conn.execute(text(sql))]
    engine.dispose()
    return rows


def plain(rows: list[list[Any]]) -> list[list[Any]]:
    """JSON-comparable values: the gateway sends numbers as JSON, the driver gives Decimals."""
    return [[float(v) if isinstance(v, Decimal | float) else v for v in row] for row in rows]


# --- analyst SQL matched to accepted joins -----------------------------------------------------


async def test_an_accepted_join_is_matched_however_the_analyst_writes_it(gw: Gateway) -> None:
    joined = await accept_join(gw, "orders", "customers", "orders.customer_id = customers.id")
    written = (
        "SELECT o.id, c.name FROM orders o JOIN customers c ON o.customer_id = c.id",
        "SELECT orders.id FROM customers JOIN orders ON customers.id = orders.customer_id",
        "SELECT x.id FROM orders AS x INNER JOIN customers AS y ON y.id = x.customer_id WHERE x.total > 3",
        "SELECT a.id FROM orders a, customers b WHERE a.total > 3 AND b.id = a.customer_id",
    )
    for sql in written:
        preview = await preview_sql(gw, sql)
        [join] = preview["joins"]
        assert (join["joinId"], join["version"], join["accepted"]) == (joined["id"], 1, True), sql
        assert "UNVERIFIED_JOIN" not in types(preview), sql


async def test_a_composite_join_is_matched_in_any_conjunct_order(gw: Gateway) -> None:
    joined = await accept_join(gw, "line_notes", "order_lines",
                               "line_notes.order_id = order_lines.order_id AND line_notes.line_no = order_lines.line_no")
    for on in ("n.order_id = l.order_id AND n.line_no = l.line_no",
               "l.line_no = n.line_no AND l.order_id = n.order_id"):
        preview = await preview_sql(gw, f"SELECT n.note, l.qty FROM line_notes n JOIN order_lines l ON {on}")
        [join] = preview["joins"]
        assert (join["joinId"], join["accepted"]) == (joined["id"], True)
        assert "UNVERIFIED_JOIN" not in types(preview)
    # Half of the key is another join: unverified.
    half = await preview_sql(gw, "SELECT n.note FROM line_notes n JOIN order_lines l ON n.order_id = l.order_id")
    assert half["joins"][0]["accepted"] is False and "UNVERIFIED_JOIN" in types(half)


async def test_an_unmatched_join_raises_unverified_join(gw: Gateway) -> None:
    await accept_join(gw, "orders", "customers", "orders.customer_id = customers.id")
    preview = await preview_sql(gw, "SELECT o.id FROM orders o JOIN customers c ON o.store_id = c.id")
    [join] = preview["joins"]
    assert (join["joinId"], join["version"], join["accepted"]) == (None, None, False)
    [warning] = [g for g in preview["guardrails"] if g["type"] == "UNVERIFIED_JOIN"]
    assert "o.store_id = c.id" in warning["message"] and not warning["requiresOverride"]


async def test_executing_counts_the_join_in_metrics_and_in_its_usage(gw: Gateway) -> None:
    joined = await accept_join(gw, "orders", "customers", "orders.customer_id = customers.id")
    before = metric("spyne_join_usage_total", join_id=joined["id"])
    preview = await preview_sql(gw, "SELECT c.name, COUNT(*) AS n FROM orders o JOIN customers c "
                                    "ON c.id = o.customer_id GROUP BY c.name")
    for _ in range(2):
        result = (await gw.ok(EXECUTE, {"id": preview["id"]}, role="ANALYST"))["executeQuery"]
        assert result["rowCount"] == 50
        assert result["explanation"]["joins"] == ["orders to customers (inner) on c.id = o.customer_id"]
    assert metric("spyne_join_usage_total", join_id=joined["id"]) == before + 2
    scraped = await gw.client.get("/metrics", headers={"Authorization": f"Bearer {gw.token('ADMIN')}"})
    assert f'spyne_join_usage_total{{join_id="{joined["id"]}"}}' in scraped.text
    [listed] = (await gw.ok(JOINS, {"t": "orders"}, role="VIEWER"))["joins"]
    assert (listed["id"], listed["usageCount"]) == (joined["id"], 2)
    # An unverified join is not anyone's usage.
    other = await preview_sql(gw, "SELECT o.id FROM orders o JOIN customers c ON o.store_id = c.id")
    await gw.ok(EXECUTE, {"id": other["id"]}, role="ANALYST")
    assert (await gw.ok(JOINS, {"t": "orders"}))["joins"][0]["usageCount"] == 2


# --- the join statistics feed the guardrails ---------------------------------------------------


async def test_an_accepted_many_to_many_with_a_large_fan_out_is_explosive(gw: Gateway) -> None:
    sql = "SELECT c.id, i.id FROM clicks c JOIN impressions i ON c.campaign_id = i.campaign_id"
    assert "EXPLOSIVE_JOIN" not in types(await preview_sql(gw, sql))  # nothing known about the join yet
    joined = await accept_join(gw, "clicks", "impressions", "clicks.campaign_id = impressions.campaign_id")
    assert joined["validationStats"]["cardinality"] == "MANY_TO_MANY"
    assert joined["validationStats"]["fanOutMultiplier"] == FAN
    preview = await preview_sql(gw, sql)
    [explosive] = [g for g in preview["guardrails"] if g["type"] == "EXPLOSIVE_JOIN"]
    assert explosive["requiresOverride"] and "1,200" in explosive["message"]
    assert preview["joins"][0]["accepted"] is True
    assert await gw.error_code(EXECUTE, {"id": preview["id"]}, role="ANALYST") == "GUARDRAIL_BLOCKED"


async def test_an_accepted_many_to_one_without_declared_keys_sets_the_fan_trap(gw: Gateway) -> None:
    sql = ("SELECT p.id, SUM(a.credit) AS credit FROM payments p JOIN accounts a ON p.account_no = a.account_no "
           "GROUP BY p.id")
    assert "FAN_TRAP" not in types(await preview_sql(gw, sql))  # no key says which side is "one"
    joined = await accept_join(gw, "payments", "accounts", "accounts.account_no = payments.account_no")
    assert joined["validationStats"]["cardinality"] == "ONE_TO_MANY"  # from accounts to payments
    [trap] = [g for g in (await preview_sql(gw, sql))["guardrails"] if g["type"] == "FAN_TRAP"]
    assert "accounts is on the one side" in trap["message"]
    # Summing the many side is what the join is for: no trap.
    fine = await preview_sql(gw, "SELECT a.account_no, SUM(p.amount) AS paid FROM payments p "
                                 "JOIN accounts a ON p.account_no = a.account_no GROUP BY a.account_no")
    assert "FAN_TRAP" not in types(fine)


# --- structured queries ----------------------------------------------------------------------


async def accept_both_ways_to_regions(gw: Gateway) -> None:
    for t1, t2, condition in (("orders", "customers", "orders.customer_id = customers.id"),
                              ("customers", "regions", "customers.region_id = regions.id"),
                              ("orders", "stores", "orders.store_id = stores.id"),
                              ("stores", "regions", "stores.region_id = regions.id")):
        await accept_join(gw, t1, t2, condition)


async def test_a_structured_query_with_two_paths_is_refused_with_both(gw: Gateway) -> None:
    await accept_both_ways_to_regions(gw)
    query = {"select": ["regions.name", "SUM(orders.total) AS revenue"], "groupBy": ["regions.name"]}
    body = await gw.gql(PREVIEW_STRUCTURED, {"i": query}, role="ANALYST")
    [error] = body["errors"]
    assert error["extensions"]["code"] == "INVALID_INPUT"
    assert error["extensions"]["alternatives"] == ["regions → customers → orders", "regions → stores → orders"]
    assert "regions → customers → orders; or regions → stores → orders" in error["message"]
    # Naming the way settles it; the preview shows the joins it took.
    chosen = await preview_structured(gw, **query, via=["stores"])
    assert [(j["leftTable"], j["rightTable"], j["accepted"]) for j in chosen["joins"]] == [
        ("regions", "stores", True), ("stores", "orders", True)]


async def test_a_structured_query_over_two_accepted_joins_returns_the_hand_written_rows(
        gw: Gateway, warehouse_url: str) -> None:
    first = await accept_join(gw, "orders", "customers", "orders.customer_id = customers.id")
    second = await accept_join(gw, "customers", "regions", "customers.region_id = regions.id")
    preview = await preview_structured(
        gw, select=["regions.name", "SUM(orders.total) AS revenue", "COUNT(*) AS orders"],
        where=["orders.total > 10"], groupBy=["regions.name"], orderBy=["regions.name"])
    assert preview["originalSql"] == (
        "SELECT regions.name, SUM(orders.total) AS revenue, COUNT(*) AS orders FROM regions "
        "INNER JOIN customers ON customers.region_id = regions.id "
        "INNER JOIN orders ON orders.customer_id = customers.id WHERE orders.total > 10 "
        "GROUP BY regions.name ORDER BY regions.name")
    assert [(j["joinId"], j["version"]) for j in preview["joins"]] == [(second["id"], 1), (first["id"], 1)]
    assert "UNVERIFIED_JOIN" not in types(preview)
    result = (await gw.ok(EXECUTE, {"id": preview["id"], "o": [g["type"] for g in preview["guardrails"]
                                                                 if g["requiresOverride"]]},
                          role="ANALYST"))["executeQuery"]
    by_hand = direct(warehouse_url, "SELECT r.name, SUM(o.total), COUNT(*) FROM orders o "
                                    "JOIN customers c ON o.customer_id = c.id JOIN regions r ON c.region_id = r.id "
                                    "WHERE o.total > 10 GROUP BY r.name ORDER BY r.name")
    assert len(by_hand) == 5 and plain(result["rows"]) == plain(by_hand)
    assert [c["name"] for c in result["columns"]] == ["name", "revenue", "orders"]


async def test_a_structured_query_without_a_path_names_the_tables_apart(gw: Gateway) -> None:
    await accept_join(gw, "orders", "customers", "orders.customer_id = customers.id")
    body = await gw.gql(PREVIEW_STRUCTURED, {"i": {"select": ["orders.id", "customers.name", "sessions.id"]}},
                        role="ANALYST")
    [error] = body["errors"]
    assert error["extensions"]["code"] == "INVALID_INPUT"
    assert error["extensions"]["unconnected"] == ["sessions"]
    assert "orders and customers with sessions" in error["message"]


async def test_structured_input_is_either_sql_or_select(gw: Gateway) -> None:
    both = {"sql": "SELECT id FROM orders", "select": ["orders.id"]}
    assert await gw.error_code(PREVIEW_STRUCTURED, {"i": both}, role="ANALYST") == "INVALID_INPUT"
    assert await gw.error_code(PREVIEW_STRUCTURED, {"i": {}}, role="ANALYST") == "INVALID_INPUT"
    assert await gw.error_code(PREVIEW_STRUCTURED, {"i": {"where": ["orders.id > 1"]}},
                               role="ANALYST") == "INVALID_INPUT"
    spliced = {"select": ["orders.id"], "where": ["orders.id = 1; DROP TABLE orders"]}
    body = await gw.gql(PREVIEW_STRUCTURED, {"i": spliced}, role="ANALYST")
    assert body["errors"][0]["extensions"]["code"] == "INVALID_SQL"
    assert body["errors"][0]["extensions"]["field"] == "where[0]"
    assert await gw.error_code(PREVIEW_STRUCTURED, {"i": {"select": ["nope.id"]}}, role="ANALYST") == "TABLE_NOT_FOUND"
    assert direct_count(gw) == 500  # nothing reached the warehouse


def direct_count(gw: Gateway) -> int:
    return int(direct(gw.settings.warehouse_url, "SELECT COUNT(*) FROM orders")[0][0])


async def test_a_structured_preview_can_be_corrected(gw: Gateway) -> None:
    await accept_join(gw, "orders", "customers", "orders.customer_id = customers.id")
    preview = await preview_structured(gw, select=["customers.name", "orders.total"], limit=100)
    corrected = (await gw.ok(CORRECT, {"id": preview["id"], "c": [{"kind": "SET_LIMIT", "limit": 3}]},
                             role="ANALYST"))["correctQuery"]
    assert corrected["parentId"] == preview["id"] and corrected["originalSql"].endswith("LIMIT 3")
    assert [j["accepted"] for j in corrected["joins"]] == [True]
    result = (await gw.ok(EXECUTE, {"id": corrected["id"]}, role="ANALYST"))["executeQuery"]
    assert result["rowCount"] == 3


def test_auto_joined_states_are_the_domain_rule() -> None:
    assert {s.value for s, p in STATE_PROPERTIES.items() if p.auto_joined} == AUTO_JOINED_STATES
