"""Overriding a guardrail and skipping the preview are capabilities of the role matrix.

``OVERRIDE_GUARDRAILS`` (ANALYST and up) and ``SKIP_PREVIEW`` (ENGINEER and up) live in
``gateway.domain``; the query service asks the matrix. Each refusal is FORBIDDEN and changes
nothing but the record of the refused execution (every execution attempt is recorded).
"""

from __future__ import annotations

import pytest

from gateway.domain import CAPABILITY_MIN_ROLE, Capability, Role
from tests.security.snapshot import unchanged
from tests.support.harness import Gateway

PREVIEW = "mutation($sql: String!) { previewQuery(input: {sql: $sql}) { id guardrails { type requiresOverride } } }"
EXECUTE = "mutation($id: ID!, $o: [GuardrailType!]) { executeQuery(previewId: $id, overrides: $o) { rowCount } }"
SKIP = """mutation($sql: String!, $o: [GuardrailType!]) {
  executeQuery(skipPreview: {sql: $sql, reason: "nightly job"}, overrides: $o) { rowCount } }"""
CARTESIAN = "SELECT COUNT(*) AS n FROM products, customers"
PLAIN = "SELECT COUNT(*) AS n FROM products"


def test_the_defaults_of_the_matrix() -> None:
    assert CAPABILITY_MIN_ROLE[Capability.OVERRIDE_GUARDRAILS] is Role.ANALYST
    assert CAPABILITY_MIN_ROLE[Capability.SKIP_PREVIEW] is Role.ENGINEER


async def _preview(gw: Gateway, sql: str, role: str) -> str:
    data = await gw.ok(PREVIEW, {"sql": sql}, role=role)
    return str(data["previewQuery"]["id"])


@pytest.mark.parametrize(("sql", "overrides"), [
    (CARTESIAN, ["CARTESIAN_PRODUCT"]),  # the override the query needs
    (PLAIN, ["CARTESIAN_PRODUCT"]),  # an override it does not need
    (CARTESIAN, ["CARTESIAN_PRODUCT", "EXPLOSIVE_JOIN", "FAN_TRAP"]),
], ids=["needed", "unneeded", "several"])
async def test_a_viewer_may_not_override_a_guardrail(hostile: Gateway, sql: str, overrides: list[str]) -> None:
    preview_id = await _preview(hostile, sql, "VIEWER")
    async with unchanged(hostile, grows={"query_executions": 1}):
        body = await hostile.gql(EXECUTE, {"id": preview_id, "o": overrides}, role="VIEWER")
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
    assert body["errors"][0]["extensions"]["requiredRole"] == "ANALYST"
    assert body.get("data") is None


async def test_a_viewer_without_overrides_meets_the_guardrail(hostile: Gateway) -> None:
    preview_id = await _preview(hostile, CARTESIAN, "VIEWER")
    async with unchanged(hostile, grows={"query_executions": 1}):
        code = await hostile.error_code(EXECUTE, {"id": preview_id, "o": []}, role="VIEWER")
    assert code == "GUARDRAIL_BLOCKED"


async def test_a_viewer_runs_a_query_that_needs_no_override(hostile: Gateway) -> None:
    preview_id = await _preview(hostile, PLAIN, "VIEWER")
    data = await hostile.ok(EXECUTE, {"id": preview_id, "o": None}, role="VIEWER")
    assert data["executeQuery"]["rowCount"] == 1


async def test_an_analyst_may_override(hostile: Gateway) -> None:
    preview_id = await _preview(hostile, CARTESIAN, "ANALYST")
    data = await hostile.ok(EXECUTE, {"id": preview_id, "o": ["CARTESIAN_PRODUCT"]}, role="ANALYST")
    assert data["executeQuery"]["rowCount"] == 1


@pytest.mark.parametrize("role", ["VIEWER", "ANALYST"])
@pytest.mark.parametrize(("sql", "overrides"), [(PLAIN, None), (CARTESIAN, ["CARTESIAN_PRODUCT"])],
                         ids=["plain", "with-override"])
async def test_skip_preview_is_forbidden_below_engineer(hostile: Gateway, role: str, sql: str,
                                                        overrides: list[str] | None) -> None:
    async with unchanged(hostile):
        body = await hostile.gql(SKIP, {"sql": sql, "o": overrides}, role=role)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
    assert body["errors"][0]["extensions"]["requiredRole"] == "ENGINEER"


async def test_an_engineer_may_skip_the_preview(hostile: Gateway) -> None:
    data = await hostile.ok(SKIP, {"sql": CARTESIAN, "o": ["CARTESIAN_PRODUCT"]}, role="ENGINEER")
    assert data["executeQuery"]["rowCount"] == 1
