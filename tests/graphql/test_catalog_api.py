"""Catalog reads and visibility through the real GraphQL endpoint."""

from __future__ import annotations

from tests.support.harness import Gateway

TABLES = """query($state: TableState, $search: String, $dep: Boolean!, $first: Int!, $after: String) {
  tables(state: $state, search: $search, includeDeprecated: $dep, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { name state activeVersion versions { version state physicalName rowCount } }
  }
}"""

TABLE = """query($name: String!) { table(name: $name) {
  name state activeVersion
  versions { version state physicalName rowCount columns { name type nullable primaryKey } supersedes deprecatedAt }
  history { version fromState toState transition actor }
} }"""


def _vars(**kw):  # type: ignore[no-untyped-def]
    return {"state": None, "search": None, "dep": False, "first": 50, "after": None, **kw}


async def test_viewer_sees_no_shadow_anywhere(gateway: Gateway) -> None:
    data = await gateway.ok(TABLES, _vars(dep=True), role="VIEWER")
    names = {t["name"] for t in data["tables"]["nodes"]}
    assert "order_events" not in names
    states = {v["state"] for t in data["tables"]["nodes"] for v in t["versions"]}
    assert "SHADOW" not in states
    body = await gateway.gql(TABLE, {"name": "order_events"}, role="ANALYST")
    assert body["errors"][0]["extensions"]["code"] == "TABLE_NOT_FOUND"
    assert "spyne_shadow" not in str(body)
    missing = await gateway.gql(TABLE, {"name": "no_such_table"}, role="ANALYST")
    # Invisible and missing read the same, but for the name asked about.
    assert missing["errors"][0]["message"].replace("no_such_table", "X") == \
        body["errors"][0]["message"].replace("order_events", "X")
    assert await gateway.error_code(TABLES, _vars(state="SHADOW"), role="ANALYST") == "FORBIDDEN"


async def test_engineer_sees_shadow(gateway: Gateway) -> None:
    data = await gateway.ok(TABLE, {"name": "order_events"}, role="ENGINEER")
    assert data["table"]["state"] == "SHADOW"
    assert data["table"]["versions"][0]["physicalName"].startswith("spyne_shadow__")
    listed = await gateway.ok(TABLES, _vars(state="SHADOW"), role="ENGINEER")
    assert [t["name"] for t in listed["tables"]["nodes"]] == ["order_events"]


async def test_deprecated_hidden_unless_asked(gateway: Gateway) -> None:
    data = await gateway.ok(TABLES, _vars(search="orders"), role="VIEWER")
    (orders,) = data["tables"]["nodes"]
    assert [v["state"] for v in orders["versions"]] == ["ACTIVE"]
    assert orders["state"] == "ACTIVE" and orders["activeVersion"] == 2
    data = await gateway.ok(TABLES, _vars(search="orders", dep=True), role="VIEWER")
    assert sorted(v["state"] for v in data["tables"]["nodes"][0]["versions"]) == ["ACTIVE", "DEPRECATED"]


async def test_search_matches_names_literally_and_counts_what_it_lists(gateway: Gateway) -> None:
    async def names(search: str) -> tuple[list[str], int]:
        tables = (await gateway.ok(TABLES, _vars(search=search), role="VIEWER"))["tables"]
        return [t["name"] for t in tables["nodes"]], tables["totalCount"]

    assert await names("ORDER") == (["order_items", "orders"], 2)  # case folded, a substring anywhere
    assert await names("r_i") == (["order_items"], 1)  # `_` is a letter here, not a wildcard
    for wildcard in ("%", "_s", "/", "ord%s"):
        assert await names(wildcard) == ([], 0), wildcard


async def test_table_shows_columns_keys_and_history(gateway: Gateway) -> None:
    data = await gateway.ok(TABLE, {"name": "customers"}, role="VIEWER")
    table = data["table"]
    assert table["state"] == "READ_ONLY"
    columns = {c["name"]: c for c in table["versions"][0]["columns"]}
    assert columns["id"]["primaryKey"] is True and columns["id"]["nullable"] is False
    assert table["versions"][0]["rowCount"] > 0
    assert table["history"][0]["toState"] == "READ_ONLY"


async def test_pagination_walks_every_table_once(gateway: Gateway) -> None:
    seen: list[str] = []
    after = None
    while True:
        data = (await gateway.ok(TABLES, _vars(first=2, after=after), role="VIEWER"))["tables"]
        seen += [t["name"] for t in data["nodes"]]
        if not data["pageInfo"]["hasNextPage"]:
            break
        after = data["pageInfo"]["endCursor"]
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == data["totalCount"]
    assert await gateway.error_code(TABLES, _vars(after="garbage"), role="VIEWER") == "INVALID_INPUT"


async def test_unauthenticated_request_is_refused(gateway: Gateway) -> None:
    body = await gateway.gql("{ me { email } }", role=None)
    assert body["_status"] == 401
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    body = await gateway.gql("{ me { email } }", token="not.a.jwt")
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_me_reports_role_and_permissions(gateway: Gateway) -> None:
    data = await gateway.ok("{ me { email role permissions } systemMode }", role="ENGINEER")
    assert data["me"]["role"] == "ENGINEER" and "VIEW_SHADOW" in data["me"]["permissions"]
    assert "PROMOTE" not in data["me"]["permissions"]
    assert data["systemMode"] == "READ_ONLY"
