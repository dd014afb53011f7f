"""Join candidates through GraphQL, over purpose-built SQLite and PostgreSQL warehouses."""

from __future__ import annotations

from typing import Any

from tests.support.harness import Gateway

CANDIDATES = """
query($t1: String!, $t2: String, $min: Float! = 0) {
  joinCandidates(table1: $t1, table2: $t2, minConfidence: $min) {
    id tables joinType condition confidence confidenceLevel reason assumptions riskLevel status
    evidence { kind detail weight }
    validationStats { cardinality nullPercentage fanOutMultiplier sampleRows inclusion flags joinedRows }
  }
}"""


async def candidates(gw: Gateway, t1: str, t2: str | None = None, role: str = "ENGINEER",
                     minimum: float = 0.0) -> list[dict[str, Any]]:
    data = await gw.ok(CANDIDATES, {"t1": t1, "t2": t2, "min": minimum}, role=role)
    return data["joinCandidates"]  # type: ignore[no-any-return]


def only(found: list[dict[str, Any]], condition: str) -> dict[str, Any]:
    matches = [c for c in found if c["condition"] == condition]
    assert len(matches) == 1, [c["condition"] for c in found]
    return matches[0]


async def test_clean_one_to_many_key_scores_high_with_statistics(joins_gateway: Gateway) -> None:
    c = only(await candidates(joins_gateway, "orders", "customers"), "orders.customer_id = customers.id")
    assert c["confidence"] >= 0.8 and c["confidenceLevel"] == "HIGH" and c["riskLevel"] == "LOW"
    assert c["joinType"] == "INNER" and c["tables"] == ["orders", "customers"]
    stats = c["validationStats"]
    assert stats["cardinality"] == "MANY_TO_ONE" and stats["nullPercentage"] == 0
    assert stats["fanOutMultiplier"] == 1.0 and stats["inclusion"] == 1.0 and stats["flags"] == []
    assert len(stats["sampleRows"]) == 5 and "orders.customer_id" in stats["sampleRows"][0]
    row = stats["sampleRows"][0]
    assert row["orders.customer_id"] == row["customers.id"]
    kinds = {e["kind"] for e in c["evidence"]}
    assert kinds == {"NAME_MATCH", "VALUE_INCLUSION"}
    assert "names and types match" in c["reason"] and "100 % of" in c["reason"]
    assert c["id"].startswith("jc_")


async def test_candidate_id_is_stable_across_requests(joins_gateway: Gateway) -> None:
    first = only(await candidates(joins_gateway, "orders", "customers"), "orders.customer_id = customers.id")
    again = only(await candidates(joins_gateway, "customers", "orders"), "orders.customer_id = customers.id")
    assert first["id"] == again["id"]


async def test_many_to_many_trap_is_high_risk_and_low_confidence(joins_gateway: Gateway) -> None:
    c = only(await candidates(joins_gateway, "tickets", "orders"), "orders.customer_id = tickets.customer_id")
    assert c["validationStats"]["cardinality"] == "MANY_TO_MANY"
    assert c["validationStats"]["fanOutMultiplier"] == 6.0  # 10 orders × 6 tickets per customer, over 500
    assert c["riskLevel"] == "HIGH" and c["confidence"] < 0.5
    assert any("neither" in a and "unique" in a for a in c["assumptions"])
    assert "SHARED_NAME" in {e["kind"] for e in c["evidence"]}


async def test_thirty_percent_nulls_are_flagged(joins_gateway: Gateway) -> None:
    c = only(await candidates(joins_gateway, "shipments", "orders"), "shipments.order_id = orders.id")
    stats = c["validationStats"]
    assert stats["nullPercentage"] == 30.0 and "HIGH_NULL_PERCENTAGE" in stats["flags"]
    assert c["riskLevel"] == "MEDIUM" and c["joinType"] == "LEFT"
    assert {e["kind"] for e in c["evidence"]} >= {"FOREIGN_KEY", "NAME_MATCH", "VALUE_INCLUSION"}
    assert "declared foreign key" in c["reason"]
    assert any("30 %" in a and "NULL" in a for a in c["assumptions"])


async def test_name_match_without_value_overlap_scores_low(joins_gateway: Gateway) -> None:
    c = only(await candidates(joins_gateway, "sessions"), "sessions.legacy_account_id = legacy_accounts.id")
    assert c["confidenceLevel"] == "LOW" and c["confidence"] < 0.5
    assert c["validationStats"]["inclusion"] == 0.0 and c["riskLevel"] == "HIGH"
    assert await candidates(joins_gateway, "sessions", minimum=0.5) == []


async def test_candidates_are_for_engineers_and_admins_only(joins_gateway: Gateway) -> None:
    for role in ("VIEWER", "ANALYST"):
        code = await joins_gateway.error_code(CANDIDATES, {"t1": "orders"}, role=role)
        assert code == "FORBIDDEN"
    assert await candidates(joins_gateway, "orders", role="ADMIN")


async def test_unknown_table_and_bad_confidence_are_refused(joins_gateway: Gateway) -> None:
    assert await joins_gateway.error_code(CANDIDATES, {"t1": "nope"}, role="ENGINEER") == "TABLE_NOT_FOUND"
    assert await joins_gateway.error_code(CANDIDATES, {"t1": "orders", "min": 2.0},
                                          role="ENGINEER") == "INVALID_INPUT"
