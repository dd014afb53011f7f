"""/dashboard sign-in through a real OpenID provider (authorization code + PKCE), end to end.

The provider is ``LocalIdentityProvider`` on 127.0.0.1: discovery, JWKS, /authorize (approves a
configured user) and /token. The browser is an httpx client that follows redirects by hand and
keeps cookies; the gateway's authlib client talks to the provider over real HTTP.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from joserfc.jwk import RSAKey

from gateway.auth.testing import LocalIdentityProvider
from gateway.http import dashboard_session as sessions
from gateway.warehouse.demo_data import DemoSummary
from tests.support.harness import DEV_SECRET, Gateway, start_gateway, stop_gateway

GATEWAY = "http://gateway.test"
CALLBACK = f"{GATEWAY}/dashboard/callback"
ADA = {"sub": "u-ada", "email": "ada@example.com", "spyne_role": "ADMIN"}


@pytest.fixture(scope="module")
def idp() -> Iterator[LocalIdentityProvider]:
    with LocalIdentityProvider() as provider:
        provider.enable_code_flow(RSAKey.generate_key(2048, parameters={"kid": "idp-1"}), audience="spyne")
        provider.register_client("spyne-dashboard", "dashboard-secret", [CALLBACK])
        yield provider


@pytest.fixture
async def oidc_gateway(catalog_url: str, demo_warehouse: DemoSummary,
                       idp: LocalIdentityProvider) -> AsyncIterator[Gateway]:
    idp.approve(ADA)
    gw = await start_gateway(catalog_url, f"sqlite:///{demo_warehouse.path}", oidc_issuer=idp.issuer,
                             oidc_audience="spyne", oidc_client_id="spyne-dashboard",
                             oidc_client_secret="dashboard-secret")
    try:
        yield gw
    finally:
        await stop_gateway(gw)


def _signed_in_user(response: httpx.Response) -> object:
    """Who the session cookie this response sets says signed in (None: nobody)."""
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(f"{sessions.COOKIE}="):
            value = header.split(";", 1)[0].split("=", 1)[1].strip('"')
            return sessions.SessionCodec(DEV_SECRET).loads(value).get("user")
    return None


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


def exchange_token_absent(response: httpx.Response) -> bool:
    """No JWT (three dot-separated base64url parts starting with eyJ) in what any cookie set holds.

    The cookie value itself is itsdangerous' ``base64(json).timestamp.signature``, which has the
    same outline as a JWT: its decoded content is what is searched.
    """
    codec = sessions.SessionCodec(DEV_SECRET)
    for header in response.headers.get_list("set-cookie"):
        value = header.split(";", 1)[0].split("=", 1)[1].strip('"')
        content = json.dumps(codec.loads(value)) if value else ""
        if re.search(r"eyJ[\w-]+\.[\w-]+\.[\w-]+", content):
            return False
    return True


async def _to_provider(gw: Gateway) -> httpx.Response:
    """/dashboard → sign-in page → "Sign in with …" (POST /dashboard/login): the 302 to the provider."""
    first = await gw.client.get("/dashboard")
    assert first.status_code == 303 and first.headers["location"] == "/dashboard/signin"
    page = await gw.client.get("/dashboard/signin")
    assert page.status_code == 200 and 'action="/dashboard/login"' in page.text
    assert "token" not in re.findall(r'name="([a-z]+)"', page.text)  # no dev-token field with OIDC
    login = await gw.client.post("/dashboard/login", headers={"Origin": GATEWAY}, data={"csrf": _csrf(page.text)})
    assert login.status_code == 302, login.text
    return login


async def _provider_answer(location: str) -> str:
    """The browser at the provider: it approves and redirects back; returns that Location."""
    async with httpx.AsyncClient() as browser_at_idp:
        answer = await browser_at_idp.get(location)
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


def _path(url: str) -> str:
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == GATEWAY
    return parts.path + ("?" + parts.query if parts.query else "")


async def test_sign_in_through_the_provider_reaches_the_dashboard(oidc_gateway: Gateway,
                                                                  idp: LocalIdentityProvider) -> None:
    gw = oidc_gateway
    login = await _to_provider(gw)
    authorize = urlsplit(login.headers["location"])
    assert f"{authorize.scheme}://{authorize.netloc}{authorize.path}" == idp.issuer + "/authorize"
    asked = {k: v[0] for k, v in parse_qs(authorize.query).items()}
    assert asked["client_id"] == "spyne-dashboard" and asked["redirect_uri"] == CALLBACK
    assert asked["code_challenge_method"] == "S256" and asked["state"] and asked["nonce"]
    flow_cookie = next(c for c in login.headers.get_list("set-cookie") if c.startswith("spyne_dashboard_oidc="))
    assert "HttpOnly" in flow_cookie and "SameSite=lax" in flow_cookie and "Path=/dashboard/callback" in flow_cookie
    # Browsers apply form-action to the redirect after a form POST: the provider is allowed there.
    signin = await gw.client.get("/dashboard/signin")
    assert f"form-action 'self' {idp.issuer}" in signin.headers["content-security-policy"]

    back = await _provider_answer(login.headers["location"])
    callback = await gw.client.get(_path(back))
    assert callback.status_code == 200, callback.text
    assert 'http-equiv="refresh" content="0;url=/dashboard"' in callback.text
    session_cookie = next(c for c in callback.headers.get_list("set-cookie") if c.startswith("spyne_dashboard="))
    assert "HttpOnly" in session_cookie and "SameSite=strict" in session_cookie and "Path=/dashboard" in session_cookie
    assert _signed_in_user(callback) == {"email": "ada@example.com", "sub": "u-ada", "role_claim": "ADMIN"}
    assert "access_token" not in session_cookie and exchange_token_absent(callback)
    assert any(c.startswith('spyne_dashboard_oidc=""') or "spyne_dashboard_oidc=;" in c
               for c in callback.headers.get_list("set-cookie"))  # the flow's cookie is cleared
    exchange = idp.token_requests[-1]
    assert exchange["redirect_uri"] == CALLBACK and exchange.get("code_verifier")  # PKCE was used
    assert "client_secret" not in exchange  # the secret went in the Authorization header

    page = await gw.client.get("/dashboard")
    assert page.status_code == 200 and "ada@example.com" in page.text
    assert 'id="panel-ingestion_lag"' in page.text
    # The code was good once: replaying the provider's answer signs nobody in.
    assert (await gw.client.get(_path(back))).status_code == 400


async def test_a_tampered_state_is_refused(oidc_gateway: Gateway) -> None:
    gw = oidc_gateway
    login = await _to_provider(gw)
    back = await _provider_answer(login.headers["location"])
    parts = urlsplit(back)
    query: dict[str, Any] = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query["state"] = query["state"][:-2] + ("AA" if not query["state"].endswith("AA") else "BB")
    refused = await gw.client.get(f"{parts.path}?{urlencode(query)}")
    assert refused.status_code == 400 and "refused" in refused.text
    assert _signed_in_user(refused) is None
    assert (await gw.client.get("/dashboard")).status_code == 303  # still signed out


async def test_a_callback_without_the_flow_cookie_is_refused(oidc_gateway: Gateway) -> None:
    # Another browser (an attacker's link) arrives with a valid code but not our flow's cookie.
    gw = oidc_gateway
    login = await _to_provider(gw)
    back = await _provider_answer(login.headers["location"])
    async with httpx.AsyncClient(transport=gw.client._transport, base_url=GATEWAY) as stranger:
        assert (await stranger.get(_path(back))).status_code == 400


async def test_a_user_who_is_not_an_admin_gets_403(oidc_gateway: Gateway, idp: LocalIdentityProvider) -> None:
    idp.approve({"sub": "u-bob", "email": "bob@example.com", "spyne_role": "ANALYST"})
    gw = oidc_gateway
    login = await _to_provider(gw)
    back = await _provider_answer(login.headers["location"])
    refused = await gw.client.get(_path(back))
    assert refused.status_code == 403
    assert _signed_in_user(refused) is None
    assert (await gw.client.get("/dashboard")).status_code == 303


async def test_a_declined_sign_in_is_refused(oidc_gateway: Gateway, idp: LocalIdentityProvider) -> None:
    idp.approve(None)
    gw = oidc_gateway
    login = await _to_provider(gw)
    back = await _provider_answer(login.headers["location"])
    assert "error=access_denied" in back
    assert (await gw.client.get(_path(back))).status_code == 400
