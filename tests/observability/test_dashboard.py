"""/dashboard over HTTP: who may see it, the cookie session and its CSRF checks, panels from durable data."""

from __future__ import annotations

import re

import httpx
import pytest

from gateway.services.dashboard import percentile
from tests.observability.seed import FRESH_CONTRACT, LATE_CONTRACT, run_queries, seed_contracts_and_drift
from tests.support.harness import Gateway, start_gateway, stop_gateway

ORIGIN = "http://gateway.test"


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


async def _sign_in(gateway: Gateway, token: str, *, origin: str | None = ORIGIN,
                   csrf: str | None = None) -> httpx.Response:
    page = await gateway.client.get("/dashboard/signin")
    headers = {"Origin": origin} if origin else {}
    return await gateway.client.post("/dashboard/signin", headers=headers,
                                     data={"csrf": csrf or _csrf(page.text), "token": token})


def _bar(html: str, panel: str, label: str) -> str:
    section = re.search(rf'<section class="panel" id="panel-{panel}".*?</section>', html, re.S)
    assert section, f"no panel {panel}"
    bar = re.search(rf'<g class="bar [^"]*" data-label="{re.escape(label)}" data-value="([^"]+)"', section.group(0))
    assert bar, f"no bar {label!r} in {panel}: {section.group(0)[:400]}"
    return bar.group(1)


async def test_without_a_session_the_page_sends_you_to_sign_in(gateway: Gateway) -> None:
    response = await gateway.client.get("/dashboard")
    assert response.status_code == 303 and response.headers["location"] == "/dashboard/signin"
    page = await gateway.client.get("/dashboard/signin")
    assert '<form method="post" action="/dashboard/signin"' in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert (await gateway.client.get("/dashboard/data.json")).status_code == 401


async def test_a_dev_token_signs_in_with_an_http_only_strict_cookie(gateway: Gateway) -> None:
    response = await _sign_in(gateway, gateway.token("ADMIN"))
    assert response.status_code == 303 and response.headers["location"] == "/dashboard"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/dashboard" in cookie
    assert gateway.token("ADMIN").split(".")[1] not in cookie  # the token itself is not kept
    page = await gateway.client.get("/dashboard")
    assert page.status_code == 200 and "admin@example.com" in page.text
    assert 'id="panel-ingestion_lag"' in page.text
    # Sign-out is a CSRF-checked POST; afterwards the cookie is gone.
    refused = await gateway.client.post("/dashboard/signout", headers={"Origin": ORIGIN}, data={"csrf": "nope"})
    assert refused.status_code == 403
    out = await gateway.client.post("/dashboard/signout", headers={"Origin": ORIGIN}, data={"csrf": _csrf(page.text)})
    assert out.status_code == 303
    assert (await gateway.client.get("/dashboard")).status_code == 303


@pytest.mark.parametrize("origin", [None, "http://evil.example"])
async def test_sign_in_from_another_origin_is_refused(gateway: Gateway, origin: str | None) -> None:
    response = await _sign_in(gateway, gateway.token("ADMIN"), origin=origin)
    assert response.status_code == 403
    assert "spyne_dashboard" not in response.headers.get("set-cookie", "") or "user" not in response.text
    assert (await gateway.client.get("/dashboard")).status_code == 303


async def test_sign_in_with_a_forged_csrf_token_is_refused(gateway: Gateway) -> None:
    response = await _sign_in(gateway, gateway.token("ADMIN"), csrf="forged")
    assert response.status_code == 403
    assert (await gateway.client.get("/dashboard")).status_code == 303


@pytest.mark.parametrize("role", ["VIEWER", "ENGINEER"])
async def test_only_admins_get_in(gateway: Gateway, role: str) -> None:
    response = await _sign_in(gateway, gateway.token(role))
    assert response.status_code == 403 and "ADMIN role" in response.text
    assert (await gateway.client.get("/dashboard")).status_code == 303
    bearer = await gateway.client.get("/dashboard", headers={"Authorization": f"Bearer {gateway.token(role)}"})
    assert bearer.status_code == 403


async def test_a_garbage_token_is_refused_at_sign_in(gateway: Gateway) -> None:
    response = await _sign_in(gateway, "not-a-token")
    assert response.status_code == 401


async def test_a_session_ends_when_the_admin_is_demoted(gateway: Gateway) -> None:
    await _sign_in(gateway, gateway.token("ADMIN", email="boss@example.com"))
    assert (await gateway.client.get("/dashboard")).status_code == 200
    await gateway.ok('mutation { setUserRole(email: "boss@example.com", role: VIEWER) { email } }')
    assert (await gateway.client.get("/dashboard")).status_code == 403


async def test_an_empty_catalog_says_no_data_yet_on_every_query_panel(empty_gateway: Gateway) -> None:
    response = await empty_gateway.client.get(
        "/dashboard", headers={"Authorization": f"Bearer {empty_gateway.token('ADMIN')}"})
    assert response.status_code == 200
    for panel in ("ingestion_lag", "drift", "join_usage", "conversion", "guardrails", "latency"):
        section = re.search(rf'id="panel-{panel}".*?</section>', response.text, re.S)
        assert section and "no data yet" in section.group(0), panel


async def test_panels_show_seeded_data_and_survive_a_restart(gateway: Gateway) -> None:
    seeded = await run_queries(gateway)
    seed_contracts_and_drift(gateway.settings.catalog_url)
    await gateway.ok('mutation { promoteTable(table: "order_events", version: 1) { message } }')
    # A fresh gateway over the same catalog: the numbers come from the database, not from memory.
    restarted = await start_gateway(gateway.settings.catalog_url, gateway.settings.warehouse_url)
    try:
        headers = {"Authorization": f"Bearer {restarted.token('ADMIN')}"}
        html = (await restarted.client.get("/dashboard", headers=headers)).text
        assert float(_bar(html, "ingestion_lag", LATE_CONTRACT)) > 3600
        assert float(_bar(html, "ingestion_lag", FRESH_CONTRACT)) < 1800
        assert 'class="bar tone-bad" data-label="orders_feed"' in html
        assert _bar(html, "drift", "BREAKING") == "2" and _bar(html, "drift", "COMPATIBLE") == "3"
        assert _bar(html, "conversion", "previewed") == str(seeded["previews"])
        assert _bar(html, "conversion", "executed") == str(seeded["executed"])
        for guardrail in set(seeded["guardrails"]):
            assert float(_bar(html, "guardrails", guardrail)) >= 1
        assert "CARTESIAN_PRODUCT" in seeded["guardrails"]
        assert float(_bar(html, "latency", "p95")) >= float(_bar(html, "latency", "p50")) > 0
        assert float(_bar(html, "join_usage", "unverified")) == 1
        assert "promoteTable" in html  # the recent audit events
        data = (await restarted.client.get("/dashboard/data.json", headers=headers)).json()
        assert {p["key"] for p in data["panels"]} >= {"ingestion_lag", "drift", "latency", "conversion"}
    finally:
        await stop_gateway(restarted)


def test_percentiles_are_observed_values() -> None:
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 50) == 50 and percentile(values, 95) == 95 and percentile([7.0], 95) == 7
