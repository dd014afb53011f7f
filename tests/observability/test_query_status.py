"""Execution statuses as the alerts read them: a statement timeout is counted as ``timeout``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from prometheus_client import REGISTRY

from gateway.services.demo import load_demo_catalog
from gateway.warehouse.demo_data import DemoSummary
from tests.support.harness import Gateway, start_gateway, stop_gateway

PREVIEW = "mutation($s: String!) { previewQuery(input: {sql: $s}) { id guardrails { type requiresOverride } } }"
EXECUTE = "mutation($id: ID!, $o: [GuardrailType!]) { executeQuery(previewId: $id, overrides: $o) { rowCount } }"
# A billion-row cross join: long past a 1 ms statement timeout on any machine.
SLOW = "SELECT COUNT(*) FROM orders a CROSS JOIN orders b CROSS JOIN orders c"


def executed(status: str) -> float:
    return REGISTRY.get_sample_value("spyne_query_executed_total", {"status": status}) or 0.0


@pytest.fixture
async def impatient(catalog_url: str, demo_warehouse: DemoSummary) -> AsyncIterator[Gateway]:
    gw = await start_gateway(catalog_url, f"sqlite:///{demo_warehouse.path}", statement_timeout_ms=1)
    await load_demo_catalog(gw.services.deps, demo_warehouse)
    try:
        yield gw
    finally:
        await stop_gateway(gw)


async def _run(gw: Gateway, sql: str, override: bool = True) -> dict[str, object]:
    preview = (await gw.ok(PREVIEW, {"s": sql}, role="ANALYST"))["previewQuery"]
    overrides = [g["type"] for g in preview["guardrails"] if g["requiresOverride"]] if override else []
    return await gw.gql(EXECUTE, {"id": preview["id"], "o": overrides}, role="ANALYST")


async def test_a_statement_timeout_is_counted_as_timeout_not_failed(impatient: Gateway) -> None:
    before = {s: executed(s) for s in ("timeout", "failed", "ok", "refused")}
    body = await _run(impatient, SLOW)
    assert body["errors"][0]["extensions"]["code"] == "TIMEOUT"  # type: ignore[index]
    assert executed("timeout") == before["timeout"] + 1
    assert executed("failed") == before["failed"]


async def test_a_guardrail_refusal_is_counted_as_refused(impatient: Gateway) -> None:
    before = executed("refused"), executed("timeout")
    body = await _run(impatient, SLOW, override=False)
    assert body["errors"][0]["extensions"]["code"] == "GUARDRAIL_BLOCKED"  # type: ignore[index]
    assert (executed("refused"), executed("timeout")) == (before[0] + 1, before[1])
