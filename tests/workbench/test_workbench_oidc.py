"""/workbench signed in through a real OpenID provider (authorization code + PKCE), in Chromium.

The provider is ``LocalIdentityProvider`` on 127.0.0.1 (discovery, JWKS, /authorize approving a
configured user, /token); the gateway runs under uvicorn with that issuer configured, so dev
tokens are refused and the only way in is the provider's access token. The browser follows every
redirect itself; the tests read where the token went — and where it did not.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from joserfc.jwk import RSAKey

from gateway.auth.testing import LocalIdentityProvider
from gateway.http.workbench import OIDC_COOKIE
from gateway.services.demo import load_demo_catalog
from gateway.warehouse.demo_data import DemoSummary
from tests.observability.live import serve
from tests.support.browser import Page
from tests.support.harness import Gateway, start_gateway, stop_gateway
from tests.workbench.steps import SETTLED, assert_only_local, replace_sql

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("catalog_url", ["sqlite"], indirect=True)]

CLIENT_ID, CLIENT_SECRET = "spyne-workbench", "workbench-secret"
ADA = {"sub": "u-ada", "email": "ada@example.com", "spyne_role": "ANALYST"}
TOKEN_KEY = "spyne.workbench.token"


@pytest.fixture(scope="module")
def idp() -> Iterator[LocalIdentityProvider]:
    with LocalIdentityProvider() as provider:
        provider.enable_code_flow(RSAKey.generate_key(2048, parameters={"kid": "idp-wb"}), audience="spyne")
        yield provider


@pytest.fixture
async def oidc_gateway(catalog_url: str, demo_warehouse: DemoSummary, idp: LocalIdentityProvider,
                       workbench_assets_installed: None) -> AsyncIterator[Gateway]:
    idp.approve(ADA)
    gw = await start_gateway(catalog_url, f"sqlite:///{demo_warehouse.path}", oidc_issuer=idp.issuer,
                             oidc_audience="spyne", oidc_client_id=CLIENT_ID, oidc_client_secret=CLIENT_SECRET)
    await load_demo_catalog(gw.services.deps, demo_warehouse)
    try:
        yield gw
    finally:
        await stop_gateway(gw)


@pytest.fixture
def oidc_live(oidc_gateway: Gateway, idp: LocalIdentityProvider) -> Iterator[str]:
    with serve(oidc_gateway.settings) as address:
        base = f"http://{address}"
        idp.register_client(CLIENT_ID, CLIENT_SECRET, [f"{base}/workbench/callback"])
        yield base


def history_urls(page: Page) -> list[str]:
    return [str(entry["url"]) for entry in page.call("Page.getNavigationHistory")["entries"]]


def test_an_analyst_signs_in_through_the_provider_and_the_token_lands_nowhere_but_the_tab(
        oidc_live: str, idp: LocalIdentityProvider, page: Page, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    page.navigate(f"{oidc_live}/workbench")
    page.wait_for("document.activeElement?.id === 'oidc-signin'")  # the provider's button has the focus
    assert idp.issuer in page.evaluate("document.getElementById('oidc-signin').textContent")
    assert "dev tokens are refused" in page.evaluate("document.getElementById('token-help').textContent")
    page.screenshot("12-oidc-sign-in")
    page.press("Enter")  # from the keyboard: to the provider, which approves and sends the browser back
    page.wait_for("!!document.querySelector('#who') && !!document.querySelector('li.table')")
    assert "ada@example.com · ANALYST" in page.evaluate("document.getElementById('who').textContent")

    token = page.evaluate(f"sessionStorage.getItem('{TOKEN_KEY}')")
    assert token and token.count(".") == 2  # the provider's access token, a JWT
    # The callback's address (its spent code) is gone: the page replaced it with /workbench.
    assert page.evaluate("location.href") == f"{oidc_live}/workbench"
    assert not any("/workbench/callback" in url for url in history_urls(page)), history_urls(page)
    # The handoff block left the document; no cookie holds the token, and the flow's cookie is cleared.
    assert page.evaluate("document.getElementById('workbench-handoff')") is None
    assert token not in page.evaluate("document.documentElement.outerHTML")
    cookies = page.cookies()
    assert not any(token in str(c["value"]) for c in cookies)
    assert not any(c["name"] == OIDC_COOKIE and c["value"] for c in cookies), cookies
    assert idp.token_requests[-1].get("code_verifier")  # PKCE was used

    # The token works: a preview is one more POST /graphql with it as the bearer header.
    replace_sql(page, "SELECT id, status FROM orders")
    page.press("Enter", "Control")
    page.wait_for("document.getElementById('execute')?.disabled === false")
    page.wait_for(SETTLED)
    page.screenshot("13-oidc-signed-in-preview")

    assert not any(token in url for url in page.requests)
    assert token not in caplog.text and "GET /workbench/callback" in caplog.text
    # Every request went to the gateway or the provider, both on 127.0.0.1.
    assert_only_local(page, oidc_live, idp.issuer)
    assert any(url.startswith(f"{idp.issuer}/authorize") for url in page.requests)

    # Sign out forgets the token; the page offers both ways in again.
    page.click("#signout")
    page.wait_for("!!document.getElementById('oidc-signin')")
    assert page.evaluate(f"sessionStorage.getItem('{TOKEN_KEY}')") is None


def test_a_declined_sign_in_is_shown_as_a_coded_error_on_the_sign_in_page(
        oidc_live: str, idp: LocalIdentityProvider, page: Page) -> None:
    idp.approve(None)  # the person declines at the provider: it answers access_denied
    page.navigate(f"{oidc_live}/workbench")
    page.wait_for("!!document.getElementById('oidc-signin')")
    page.click("#oidc-signin")
    page.wait_for("!!document.querySelector('main.signin .error')")
    assert page.evaluate("document.querySelector('main.signin .error').dataset.code") == "UNAUTHENTICATED"
    assert "refused" in page.evaluate("document.querySelector('main.signin .error .message').textContent")
    assert page.evaluate("location.href") == f"{oidc_live}/workbench"
    assert page.evaluate(f"sessionStorage.getItem('{TOKEN_KEY}')") is None
    assert "Traceback" not in page.evaluate("document.body.innerText")
    assert_only_local(page, oidc_live, idp.issuer)


async def test_the_flow_cookie_is_scoped_and_a_foreign_callback_is_refused(oidc_gateway: Gateway,
                                                                          idp: LocalIdentityProvider) -> None:
    idp.register_client(CLIENT_ID, CLIENT_SECRET, ["http://gateway.test/workbench/callback"])
    start = await oidc_gateway.client.get("/workbench/login")
    assert start.status_code == 302 and start.headers["location"].startswith(f"{idp.issuer}/authorize?")
    flow = next(c for c in start.headers.get_list("set-cookie") if c.startswith(f"{OIDC_COOKIE}="))
    assert "HttpOnly" in flow and "SameSite=lax" in flow and "Path=/workbench/callback" in flow
    async with httpx.AsyncClient() as at_provider:
        back = (await at_provider.get(start.headers["location"])).headers["location"]
    path = back.removeprefix("http://gateway.test")
    # Another browser (no flow cookie) arriving with a good code signs nobody in.
    async with httpx.AsyncClient(transport=oidc_gateway.client._transport, base_url="http://gateway.test") as other:
        refused = await other.get(path)
    assert refused.status_code == 400 and 'id="workbench-handoff"' not in refused.text
    # The browser that started it gets the page with the token inside, never cached.
    handed = await oidc_gateway.client.get(path)
    assert handed.status_code == 200 and 'id="workbench-handoff"' in handed.text
    assert handed.headers["cache-control"] == "no-store" and handed.headers["referrer-policy"] == "no-referrer"
    # The code was good once.
    assert (await oidc_gateway.client.get(path)).status_code == 400


async def test_without_a_client_id_there_is_no_provider_to_sign_in_with(gateway: Gateway,
                                                                       workbench_assets_installed: None) -> None:
    response = await gateway.client.get("/workbench/login")
    assert response.status_code == 404
    config: dict[str, Any] = _config(response.text)
    assert config["signIn"]["issuer"] is None and config["signIn"]["devTokens"] is True
    assert config["signIn"]["error"]["code"] == "UNAUTHENTICATED"


def _config(html: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="workbench-config">(.*?)</script>', html)
    assert found, html[:300]
    return dict(json.loads(found.group(1)))
