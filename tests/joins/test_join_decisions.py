"""Accept, reject, deprecate and version joins through GraphQL; what the planner then sees."""

from __future__ import annotations

from typing import Any

from prometheus_client import REGISTRY

from planner.join_paths import find_join_paths
from tests.joins.test_joins_api import candidates, only
from tests.support.harness import Gateway

ACCEPT = """mutation($c: String!, $r: String!, $v: Int) { acceptJoin(candidateId: $c, rationale: $r, version: $v) {
  id version state tables condition joinType acceptedBy acceptedAt rationale supersedes candidateId
  validationStats { cardinality nullPercentage fanOutMultiplier sampleRows } } }"""
REJECT = """mutation($c: String!, $r: String!, $k: JoinRejectionCategory) {
  rejectJoinCandidate(candidateId: $c, reason: $r, category: $k) { id status lastRejection { category reason } } }"""
DEPRECATE = """mutation($j: String!, $r: String!) { deprecateJoin(joinId: $j, reason: $r) {
  id version state deprecatedBy deprecationReason } }"""
JOINS = """query($t: String, $d: Boolean! = false) { joins(table: $t, includeDeprecated: $d) {
  id version state condition supersedes } }"""
JOIN = """query($id: String!, $v: Int) { join(id: $id, version: $v) { id version state condition } }"""
PREVIEW = """mutation($sql: String!) { previewQuery(input: {sql: $sql}) { id guardrails { type } } }"""
EXECUTE = """mutation($id: ID!, $o: [GuardrailType!]) { executeQuery(previewId: $id, overrides: $o) { rowCount } }"""


async def accept(gw: Gateway, candidate: str, version: int | None = None) -> dict[str, Any]:
    return (await gw.ok(ACCEPT, {"c": candidate, "r": "checked with finance", "v": version}))["acceptJoin"]


async def candidate_id(gw: Gateway, t1: str, t2: str, condition: str) -> str:
    return str(only(await candidates(gw, t1, t2), condition)["id"])


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_only_an_admin_decides(joins_gateway: Gateway) -> None:
    cid = await candidate_id(joins_gateway, "orders", "customers", "orders.customer_id = customers.id")
    for role in ("VIEWER", "ANALYST", "ENGINEER"):
        assert await joins_gateway.error_code(ACCEPT, {"c": cid, "r": "x"}, role=role) == "FORBIDDEN"
        assert await joins_gateway.error_code(REJECT, {"c": cid, "r": "x"}, role=role) == "FORBIDDEN"
        assert await joins_gateway.error_code(DEPRECATE, {"j": "j_x", "r": "x"}, role=role) == "FORBIDDEN"
    assert await joins_gateway.error_code(ACCEPT, {"c": cid, "r": "  "}) == "INVALID_INPUT"
    assert await joins_gateway.error_code(ACCEPT, {"c": "jc_nope", "r": "ok"}) == "INVALID_INPUT"


async def test_accepting_records_the_join_and_feeds_the_planner(joins_gateway: Gateway) -> None:
    gw = joins_gateway
    epoch_before = (await gw.services.catalog.snapshot(max_age=0)).epoch
    cid = await candidate_id(gw, "orders", "customers", "orders.customer_id = customers.id")
    joined = await accept(gw, cid, version=1)
    assert (joined["version"], joined["state"], joined["supersedes"]) == (1, "ACTIVE", None)
    assert joined["acceptedBy"] == "admin@example.com" and joined["rationale"] == "checked with finance"
    assert joined["validationStats"]["cardinality"] == "MANY_TO_ONE" and joined["candidateId"] == cid
    # Every role reads accepted joins; the decided candidate is no longer suggested.
    listed = (await gw.ok(JOINS, {"t": "customers"}, role="VIEWER"))["joins"]
    assert [(j["id"], j["version"]) for j in listed] == [(joined["id"], 1)]
    assert (await gw.ok(JOIN, {"id": joined["id"]}, role="VIEWER"))["join"]["version"] == 1
    assert all(c["id"] != cid for c in await candidates(gw, "orders", "customers"))
    snapshot = await gw.services.catalog.snapshot(max_age=0)
    assert snapshot.epoch > epoch_before
    [planner_join] = snapshot.accepted_joins()
    assert (planner_join.left_table, planner_join.left_columns, planner_join.right_columns) == (
        "orders", ("customer_id",), ("id",))
    assert planner_join.cardinality == "MANY_TO_ONE" and planner_join.fan_out == 1.0
    events = (await gw.ok('{ auditLog(first: 3) { events { action entityId after } } }'))["auditLog"]["events"]
    assert events[0]["action"] == "acceptJoin" and events[0]["entityId"] == f"{joined['id']}@1"
    # The same condition again, or a stale expected version, is a conflict.
    assert await gw.error_code(ACCEPT, {"c": cid, "r": "again"}) == "CONFLICT"
    assert await gw.error_code(ACCEPT, {"c": cid, "r": "again", "v": 1}) == "CONFLICT"


async def test_a_new_condition_for_the_same_tables_is_the_next_version(joins_gateway: Gateway) -> None:
    gw = joins_gateway
    first = await accept(gw, await candidate_id(gw, "orders", "customers", "orders.customer_id = customers.id"))
    # An analyst writes a different join of the same two tables and runs it (an unverified join).
    sql = "SELECT o.id, c.name FROM orders o JOIN customers c ON c.region_id = o.store_id"
    preview = (await gw.ok(PREVIEW, {"sql": sql}, role="ANALYST"))["previewQuery"]
    overrides = [g["type"] for g in preview["guardrails"]]
    await gw.ok(EXECUTE, {"id": preview["id"], "o": overrides}, role="ANALYST")
    observed = only(await candidates(gw, "orders", "customers"), "orders.store_id = customers.region_id")
    assert any(e["kind"] == "OBSERVED" and "1 executed query by 1 user" in e["detail"]
               for e in observed["evidence"])
    second = await accept(gw, observed["id"], version=2)
    assert (second["id"], second["version"], second["supersedes"]) == (first["id"], 2, 1)
    history = (await gw.ok(JOINS, {"t": "orders", "d": True}))["joins"]
    assert [(j["version"], j["state"]) for j in history] == [(1, "DEPRECATED"), (2, "ACTIVE")]
    assert (await gw.ok(JOIN, {"id": first["id"], "v": 1}))["join"]["state"] == "DEPRECATED"
    [active] = (await gw.services.catalog.snapshot(max_age=0)).accepted_joins()
    assert active.version == 2 and active.left_columns == ("store_id",)


async def test_rejected_candidates_stay_hidden_until_evidence_changes(joins_gateway: Gateway) -> None:
    gw = joins_gateway
    condition = "sessions.legacy_account_id = legacy_accounts.id"
    cid = await candidate_id(gw, "sessions", "legacy_accounts", condition)
    before = metric("spyne_join_candidate_rejected_total", reason="LOW_OVERLAP")
    rejected = (await gw.ok(REJECT, {"c": cid, "r": "ids were renumbered in 2019"}))["rejectJoinCandidate"]
    assert rejected["status"] == "REJECTED"
    assert rejected["lastRejection"] == {"category": "LOW_OVERLAP", "reason": "ids were renumbered in 2019"}
    assert metric("spyne_join_candidate_rejected_total", reason="LOW_OVERLAP") == before + 1
    assert await candidates(gw, "sessions", "legacy_accounts") == []
    assert await candidates(gw, "sessions", "legacy_accounts") == []  # asking again changes nothing
    # New evidence: analysts start writing this join.
    sql = ("SELECT s.id FROM sessions s JOIN legacy_accounts a ON s.legacy_account_id = a.id")
    preview = (await gw.ok(PREVIEW, {"sql": sql}, role="ANALYST"))["previewQuery"]
    await gw.ok(EXECUTE, {"id": preview["id"], "o": [g["type"] for g in preview["guardrails"]]}, role="ANALYST")
    back = only(await candidates(gw, "sessions", "legacy_accounts"), condition)
    assert back["id"] == cid and any("rejected before" in a for a in back["assumptions"])


async def test_rejection_category_given_by_the_admin_is_the_metric_label(joins_gateway: Gateway) -> None:
    gw = joins_gateway
    cid = await candidate_id(gw, "orders", "tickets", "orders.customer_id = tickets.customer_id")
    before = metric("spyne_join_candidate_rejected_total", reason="NOT_USEFUL")
    await gw.ok(REJECT, {"c": cid, "r": "nobody needs this", "k": "NOT_USEFUL"})
    assert metric("spyne_join_candidate_rejected_total", reason="NOT_USEFUL") == before + 1
    assert metric("spyne_join_validations_total", result="ok") > 0


async def test_deprecating_removes_the_join_from_the_planner(joins_gateway: Gateway) -> None:
    gw = joins_gateway
    joined = await accept(gw, await candidate_id(gw, "orders", "customers", "orders.customer_id = customers.id"))
    done = (await gw.ok(DEPRECATE, {"j": joined["id"], "r": "customers table is being split"}))["deprecateJoin"]
    assert (done["state"], done["deprecatedBy"]) == ("DEPRECATED", "admin@example.com")
    assert (await gw.ok(JOINS, {"t": "orders"}))["joins"] == []
    assert (await gw.services.catalog.snapshot(max_age=0)).accepted_joins() == ()
    assert await gw.error_code(DEPRECATE, {"j": joined["id"], "r": "again"}) == "INVALID_TRANSITION"
    assert await gw.error_code(DEPRECATE, {"j": "j_missing", "r": "x"}) == "INVALID_INPUT"
    events = (await gw.ok('{ auditLog(first: 1) { events { action } } }'))["auditLog"]["events"]
    assert events[0]["action"] == "deprecateJoin"


async def test_two_accepted_paths_between_tables_are_both_found(joins_gateway: Gateway) -> None:
    """The path ambiguity, for structured queries: orders → regions via customers or via stores."""
    gw = joins_gateway
    for t1, t2, condition in (("orders", "customers", "orders.customer_id = customers.id"),
                              ("customers", "regions", "customers.region_id = regions.id"),
                              ("orders", "stores", "orders.store_id = stores.id"),
                              ("stores", "regions", "stores.region_id = regions.id")):
        await accept(gw, await candidate_id(gw, t1, t2, condition))
    snapshot = await gw.services.catalog.snapshot(max_age=0)
    paths = find_join_paths(["orders", "regions"], snapshot.accepted_joins())
    assert sorted(p.tables for p in paths) == [("orders", "customers", "regions"), ("orders", "stores", "regions")]
    [direct] = find_join_paths(["orders", "customers"], snapshot.accepted_joins())
    assert len(direct.steps) == 1
