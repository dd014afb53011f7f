"""Promote, deprecate, restore and roll back through GraphQL: atomic, audited, refused cleanly."""

from __future__ import annotations

from datetime import timedelta

from gateway.domain import TableState
from gateway.records import VersionRecord
from tests.support.harness import Gateway

PROMOTE = """mutation($t: String!, $v: Int!, $dry: Boolean!) {
  promoteTable(table: $t, version: $v, dryRun: $dry) {
    dryRun message changes { version transition fromState toState }
    table { activeVersion versions { version state } }
  }
}"""
DEPRECATE = """mutation($t: String!, $v: Int!) { deprecateTable(table: $t, version: $v, reason: "old") {
  table { activeVersion versions { version state } } } }"""
RESTORE = """mutation($t: String!, $v: Int!) { restoreTable(table: $t, version: $v) {
  table { activeVersion versions { version state } } } }"""
ROLLBACK = """mutation($t: String!) { rollbackPromotion(table: $t) { message
  table { activeVersion versions { version state } } } }"""
AUDIT = """query($e: String) { auditLog(entity: $e, first: 20) { events { action actor role before after } } }"""


async def add_shadow_orders_v3(gateway: Gateway) -> None:
    """A third orders version in SHADOW, pointing at the same physical data as v2's copy."""
    deps = gateway.services.deps
    now = deps.clock()
    async with deps.uow() as uow:
        record = await uow.tables.get("orders")
        assert record is not None
        v2 = record.version(2)
        assert v2 is not None
        await uow.tables.add_version(VersionRecord(
            table="orders", version=3, state=TableState.SHADOW,
            physical_name="spyne_shadow__orders__v3_test", columns=v2.columns, row_count=v2.row_count,
            owner="t", supersedes=2, schema_version="2.1", created_at=now, updated_at=now,
            deprecated_at=None))
        await uow.system.bump_epoch()
        await uow.commit()


def states(result: dict) -> dict[int, str]:  # type: ignore[type-arg]
    return {v["version"]: v["state"] for v in result["table"]["versions"]}


async def test_promote_dry_run_changes_nothing(gateway: Gateway) -> None:
    await add_shadow_orders_v3(gateway)
    data = await gateway.ok(PROMOTE, {"t": "orders", "v": 3, "dry": True})
    result = data["promoteTable"]
    assert result["dryRun"] is True
    assert {(c["version"], c["toState"]) for c in result["changes"]} == {(2, "DEPRECATED"), (3, "ACTIVE")}
    assert states(result) == {1: "DEPRECATED", 2: "ACTIVE", 3: "SHADOW"}
    events = (await gateway.ok(AUDIT, {"e": "table:orders"}))["auditLog"]["events"]
    assert not [e for e in events if e["action"] == "promoteTable"]


async def test_promote_then_rollback_restores_exactly(gateway: Gateway) -> None:
    await add_shadow_orders_v3(gateway)
    before = await gateway.ok("{ table(name: \"orders\") { versions { version state } } }")
    result = (await gateway.ok(PROMOTE, {"t": "orders", "v": 3, "dry": False}))["promoteTable"]
    assert states(result) == {1: "DEPRECATED", 2: "DEPRECATED", 3: "ACTIVE"}
    assert result["table"]["activeVersion"] == 3
    event = (await gateway.ok(AUDIT, {"e": "table:orders"}))["auditLog"]["events"][0]
    assert event["action"] == "promoteTable" and event["role"] == "ADMIN"
    assert event["before"]["v3"] == "SHADOW" and event["after"]["v3"] == "ACTIVE"

    rolled = (await gateway.ok(ROLLBACK, {"t": "orders"}))["rollbackPromotion"]
    after = await gateway.ok("{ table(name: \"orders\") { versions { version state } } }")
    assert after == before
    assert states(rolled) == {1: "DEPRECATED", 2: "ACTIVE", 3: "SHADOW"}
    # Nothing left to roll back.
    assert await gateway.error_code(ROLLBACK, {"t": "orders"}) == "INVALID_TRANSITION"


async def test_rollback_refused_after_24_hours(gateway: Gateway) -> None:
    await add_shadow_orders_v3(gateway)
    await gateway.ok(PROMOTE, {"t": "orders", "v": 3, "dry": False})
    real_clock = gateway.services.deps.clock
    gateway.services.deps.clock = lambda: real_clock() + timedelta(hours=25)
    body = await gateway.gql(ROLLBACK, {"t": "orders"})
    assert body["errors"][0]["extensions"]["code"] == "INVALID_TRANSITION"
    assert "24-hour" in body["errors"][0]["message"]


async def test_deprecate_and_restore(gateway: Gateway) -> None:
    data = (await gateway.ok(DEPRECATE, {"t": "orders", "v": 2}))["deprecateTable"]
    assert states(data) == {1: "DEPRECATED", 2: "DEPRECATED"} and data["table"]["activeVersion"] is None
    data = (await gateway.ok(RESTORE, {"t": "orders", "v": 1}))["restoreTable"]
    assert states(data) == {1: "ACTIVE", 2: "DEPRECATED"}
    data = (await gateway.ok(RESTORE, {"t": "orders", "v": 2}))["restoreTable"]
    assert states(data) == {1: "DEPRECATED", 2: "ACTIVE"}


async def test_invalid_transitions_are_refused(gateway: Gateway) -> None:
    # READ_ONLY never changes; ACTIVE cannot be promoted; DEPRECATED cannot be deprecated.
    assert await gateway.error_code(PROMOTE, {"t": "customers", "v": 1, "dry": False}) == "INVALID_TRANSITION"
    assert await gateway.error_code(DEPRECATE, {"t": "customers", "v": 1}) == "INVALID_TRANSITION"
    assert await gateway.error_code(PROMOTE, {"t": "orders", "v": 2, "dry": False}) == "INVALID_TRANSITION"
    assert await gateway.error_code(DEPRECATE, {"t": "orders", "v": 1}) == "INVALID_TRANSITION"
    assert await gateway.error_code(PROMOTE, {"t": "orders", "v": 9, "dry": False}) == "TABLE_NOT_FOUND"


async def test_lifecycle_needs_admin(gateway: Gateway) -> None:
    await add_shadow_orders_v3(gateway)
    for role in ("VIEWER", "ANALYST", "ENGINEER"):
        assert await gateway.error_code(PROMOTE, {"t": "orders", "v": 3, "dry": True}, role=role) == "FORBIDDEN"
        assert await gateway.error_code(DEPRECATE, {"t": "orders", "v": 2}, role=role) == "FORBIDDEN"
        assert await gateway.error_code(ROLLBACK, {"t": "orders"}, role=role) == "FORBIDDEN"
    data = await gateway.ok("{ table(name: \"orders\") { activeVersion } }")
    assert data["table"]["activeVersion"] == 2


async def test_promotion_moves_the_catalog_epoch(gateway: Gateway) -> None:
    await add_shadow_orders_v3(gateway)
    before = await gateway.services.catalog.snapshot()
    await gateway.ok(PROMOTE, {"t": "orders", "v": 3, "dry": False})
    after = await gateway.services.catalog.snapshot()
    assert after.epoch > before.epoch
    assert {v.version: v.state for v in after.table("orders").versions}[3] == "ACTIVE"  # type: ignore[union-attr]
