"""/metrics: who may read it, what it counts, bounded labels, and promtool's verdict."""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest
from prometheus_client import REGISTRY

from gateway import metrics
from gateway.auth import mint_dev_token
from tests.support.harness import DEV_SECRET, Gateway

PROMTOOL = shutil.which("promtool")


def promtool() -> str:
    # In CI a missing promtool is a failure, never a skip: the alert rules must be checked.
    if PROMTOOL is None:
        pytest.fail("promtool is not installed: apt-get install -y prometheus (Debian's package provides it)")
    return PROMTOOL


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_metrics_needs_a_token_of_an_engineer_or_above(gateway: Gateway) -> None:
    assert (await gateway.client.get("/metrics")).status_code == 401
    for role, status in (("VIEWER", 403), ("ANALYST", 403), ("ENGINEER", 200), ("ADMIN", 200)):
        response = await gateway.client.get(
            "/metrics", headers={"Authorization": f"Bearer {gateway.token(role)}"})
        assert response.status_code == status, role
    assert response.headers["content-type"].startswith("text/plain")
    assert "spyne_http_requests_total" in response.text


async def test_refused_tokens_are_counted_by_reason(gateway: Gateway) -> None:
    before = {r: sample("spyne_auth_failures_total", reason=r) for r in ("expired", "malformed", "missing")}
    expired = mint_dev_token(DEV_SECRET, "late@example.com", "VIEWER", 60, now=int(time.time()) - 3600)
    await gateway.gql("{ me { email } }", token=expired)
    await gateway.gql("{ me { email } }", token="not-a-jwt")
    await gateway.gql("{ me { email } }", role=None)
    for reason in before:
        assert sample("spyne_auth_failures_total", reason=reason) == before[reason] + 1, reason


async def test_requests_are_counted_under_route_templates_never_raw_paths(gateway: Gateway) -> None:
    before = sample("spyne_http_requests_total", route="unmatched", status="4xx")
    healthz = sample("spyne_http_requests_total", route="/healthz", status="2xx")
    for path in ("/no/such/path", "/select * from users", "/x" * 40):
        assert (await gateway.client.get(path)).status_code == 404
    await gateway.client.get("/healthz")
    assert sample("spyne_http_requests_total", route="unmatched", status="4xx") == before + 3
    assert sample("spyne_http_requests_total", route="/healthz", status="2xx") == healthz + 1
    routes = {s.labels["route"] for m in REGISTRY.collect() if m.name == "spyne_http_requests"
              for s in m.samples}
    assert not any("select" in r or "/x/x" in r for r in routes)
    assert sample("spyne_http_request_duration_seconds_count", route="/healthz") >= 1


async def test_promotions_are_counted_by_result(gateway: Gateway) -> None:
    promote = "mutation($dry: Boolean!) { promoteTable(table: \"order_events\", version: 1, dryRun: $dry) { message } }"
    results = ("dry_run", "success", "refused")
    before = {r: sample("spyne_promotions_total", result=r) for r in results}
    await gateway.ok(promote, {"dry": True})
    await gateway.ok(promote, {"dry": False})
    assert await gateway.error_code(promote, {"dry": False}) == "INVALID_TRANSITION"
    for result in results:
        assert sample("spyne_promotions_total", result=result) == before[result] + 1, result


def _touch_every_family() -> None:
    """One sample in every family, so promtool lints them all."""
    metrics.INGESTION_LAG_SECONDS.labels(contract_id="lint").set(1)
    metrics.INGESTION_SLA_SECONDS.labels(contract_id="lint").set(3600)
    metrics.INGESTION_ROWS.labels(contract_id="lint", status="accepted").inc(0)
    metrics.REPLAY_COUNT.labels(contract_id="lint").inc(0)
    metrics.BACKFILL_ROWS.labels(contract_id="lint").inc(0)
    metrics.JOIN_USAGE.labels(join_id="lint").inc(0)
    metrics.JOIN_CANDIDATE_REJECTED.labels(reason="lint").inc(0)
    metrics.JOIN_VALIDATIONS.labels(result="ok").inc(0)
    metrics.DRIFT_DETECTED.labels(contract_id="lint", severity="WARNING").inc(0)
    metrics.DRIFT_RESOLVED.labels(contract_id="lint").inc(0)
    metrics.QUERY_LATENCY.labels(phase="plan").observe(0.001)
    metrics.QUERY_PREVIEW_VIEWED.inc(0)
    metrics.QUERY_EXECUTED.labels(status="success").inc(0)
    metrics.QUERY_CORRECTIONS.inc(0)
    metrics.QUERY_GUARDRAIL_TRIGGERED.labels(type="FAN_TRAP").inc(0)


EXPECTED_FAMILIES = (
    "spyne_ingestion_lag_seconds", "spyne_ingestion_rows_total", "spyne_replay_count_total",
    "spyne_backfill_rows_total", "spyne_join_usage_total", "spyne_join_candidate_rejected_total",
    "spyne_drift_detected_total", "spyne_drift_resolved_total", "spyne_query_latency_seconds_bucket",
    "spyne_query_preview_viewed_total", "spyne_query_executed_total", "spyne_query_corrections_total",
    "spyne_query_guardrail_triggered_total", "spyne_promotions_total", "spyne_auth_failures_total",
    "spyne_http_requests_total", "spyne_http_request_duration_seconds_bucket",
)


async def test_metrics_output_passes_promtool_check_metrics(gateway: Gateway) -> None:
    tool = promtool()
    _touch_every_family()
    await gateway.gql("{ me { email } }", token="garbage")
    response = await gateway.client.get("/metrics", headers={"Authorization": f"Bearer {gateway.token('ENGINEER')}"})
    assert response.status_code == 200
    for family in EXPECTED_FAMILIES:
        assert f"\n{family}{{" in response.text or f"\n{family} " in response.text, family
    checked = subprocess.run([tool, "check", "metrics"], input=response.text, capture_output=True,
                             text=True, timeout=60, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
