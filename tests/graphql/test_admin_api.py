"""Registering tables, roles, the system mode and the audit log through GraphQL."""

from __future__ import annotations

import sqlite3

from tests.support.harness import Gateway

REGISTER = """mutation($n: String!, $p: String!) { registerTable(input: {name: $n, physicalName: $p}) {
  name state versions { version state physicalName rowCount columns { name type nullable primaryKey } } } }"""


async def test_register_external_table_by_introspection(empty_gateway: Gateway) -> None:
    gw = empty_gateway
    data = (await gw.ok(REGISTER, {"n": "Customers", "p": "customers"}))["registerTable"]
    assert data["name"] == "customers" and data["state"] == "READ_ONLY"
    (version,) = data["versions"]
    path = gw.settings.warehouse_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        expected_rows = conn.execute("SELECT COUNT(*) FROM customers").fetchone()[0]
        expected_cols = [r[1] for r in conn.execute("PRAGMA table_info(customers)")]
    assert version["rowCount"] == expected_rows
    assert [c["name"] for c in version["columns"]] == expected_cols
    assert await gw.error_code(REGISTER, {"n": "customers", "p": "customers"}) == "CONFLICT"
    assert await gw.error_code(REGISTER, {"n": "other", "p": "customers"}) == "CONFLICT"
    assert await gw.error_code(REGISTER, {"n": "ghost", "p": "no_such_table"}) == "TABLE_NOT_FOUND"
    assert await gw.error_code(REGISTER, {"n": "bad name!", "p": "customers"}) == "INVALID_INPUT"
    assert await gw.error_code(REGISTER, {"n": "ev", "p": "spyne_shadow__order_events__v1"}) == "INVALID_INPUT"
    assert await gw.error_code(REGISTER, {"n": "x", "p": "products"}, role="ENGINEER") == "FORBIDDEN"
    # Names that read like a system catalog or the gateway's own spaces never name a table.
    for reserved in ("sqlite_master", "pg_tables", "information_schema", "spyne_anything"):
        assert await gw.error_code(REGISTER, {"n": reserved, "p": "products"}) == "INVALID_INPUT", reserved


async def test_set_role_takes_precedence_over_claim(gateway: Gateway) -> None:
    me = "{ me { role } }"
    assert (await gateway.ok(me, role="VIEWER", email="pat@example.com"))["me"]["role"] == "VIEWER"
    await gateway.ok('mutation { setUserRole(email: "pat@example.com", role: ENGINEER) { email role } }')
    assert (await gateway.ok(me, role="VIEWER", email="pat@example.com"))["me"]["role"] == "ENGINEER"
    assert await gateway.error_code('mutation { setUserRole(email: "x@y.z", role: ADMIN) { role } }',
                                    role="ENGINEER") == "FORBIDDEN"
    assert await gateway.error_code('mutation { setUserRole(email: "nobody", role: ADMIN) { role } }') \
        == "INVALID_INPUT"


async def test_system_mode_is_admin_only_and_audited(gateway: Gateway) -> None:
    assert (await gateway.ok("{ systemMode }", role="VIEWER"))["systemMode"] == "READ_ONLY"
    assert await gateway.error_code("mutation { setSystemMode(mode: INGESTION_READY) }",
                                    role="ENGINEER") == "FORBIDDEN"
    await gateway.ok("mutation { setSystemMode(mode: INGESTION_READY) }")
    assert (await gateway.ok("{ systemMode }", role="VIEWER"))["systemMode"] == "INGESTION_READY"
    events = (await gateway.ok('{ auditLog(entity: "system:mode") { events { action before after } } }'))
    event = events["auditLog"]["events"][0]
    assert event["action"] == "setSystemMode" and event["after"] == {"mode": "INGESTION_READY"}


async def test_audit_log_is_admin_only_and_pages(gateway: Gateway) -> None:
    assert await gateway.error_code("{ auditLog { events { id } } }", role="ENGINEER") == "FORBIDDEN"
    for i in range(3):
        await gateway.ok(f'mutation {{ setUserRole(email: "u{i}@x.io", role: ANALYST) {{ role }} }}')
    page = (await gateway.ok('{ auditLog(first: 2, actor: "admin@example.com") { events { id entityId } endCursor hasNextPage } }'))["auditLog"]
    assert page["hasNextPage"] and [e["entityId"] for e in page["events"]] == ["u2@x.io", "u1@x.io"]
    rest = (await gateway.ok('query($a: String) { auditLog(first: 2, actor: "admin@example.com", after: $a) { events { entityId } } }',
                             {"a": page["endCursor"]}))["auditLog"]
    assert [e["entityId"] for e in rest["events"]] == ["u0@x.io"]


async def test_query_limits(gateway: Gateway) -> None:
    aliases = " ".join(f"a{i}: systemMode" for i in range(40))
    assert await gateway.error_code("{ " + aliases + " }") == "INVALID_INPUT"
    deep = "{ tables { nodes { versions { columns { name } } } } }"
    assert not (await gateway.gql(deep)).get("errors")


async def test_unexpected_errors_are_masked(gateway: Gateway) -> None:
    async def broken(*_a, **_k):  # type: ignore[no-untyped-def]
        raise RuntimeError("secret connection string postgres://user:pw@host")

    gateway.services.catalog.get_table = broken  # type: ignore[method-assign]
    body = await gateway.gql('{ table(name: "orders") { name } }')
    error = body["errors"][0]
    assert error["extensions"]["code"] == "INTERNAL" and "secret" not in str(body)
    assert error["extensions"]["requestId"]


async def test_several_operations_need_an_operation_name(gateway: Gateway) -> None:
    document = "query A { systemMode } mutation B { setSystemMode(mode: INGESTION_READY) }"
    body = await gateway.gql(document)
    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT" and body.get("data") is None
    assert (await gateway.ok("{ systemMode }"))["systemMode"] == "READ_ONLY"  # nothing ran
    response = await gateway.client.post("/graphql", json={"query": document, "operationName": "A"},
                                         headers={"Authorization": f"Bearer {gateway.token()}"})
    assert response.json() == {"data": {"systemMode": "READ_ONLY"}}
