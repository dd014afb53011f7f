"""Token time: the clock leeway is a setting, and no token may declare an endless lifetime.

The class: a correctly signed token whose time claims make it a credential that never ends —
``exp`` of 1e308, a lifetime of years, an ``iat`` in 1970 — is refused ``UNAUTHENTICATED``
(reason ``too_long_lived``), through the real endpoint, changing nothing. The leeway after
``exp`` is exactly the configured one.
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc import jwt

from gateway.app import create_app
from gateway.auth import DEV_AUDIENCE, DEV_ISSUER, AuthFailure, TokenVerifier
from gateway.auth.verifier import DEFAULT_LEEWAY_SECONDS, DEFAULT_MAX_LIFETIME_SECONDS, dev_key
from gateway.settings import load_settings
from tests.security.snapshot import unchanged
from tests.support.harness import DEV_SECRET, Gateway

REPO = Path(__file__).resolve().parents[2]
DAY = 86400
DROP = object()


def signed(**times: Any) -> str:
    claims: dict[str, Any] = {"iss": DEV_ISSUER, "aud": DEV_AUDIENCE, "sub": "mallory@example.com",
                              "email": "mallory@example.com", "spyne_role": "ADMIN"}
    now = int(time.time())
    claims.update({"iat": now, "exp": now + 3600})
    claims.update(times)
    claims = {k: v for k, v in claims.items() if v is not DROP}
    return jwt.encode({"alg": "HS256"}, claims, dev_key(DEV_SECRET), algorithms=["HS256"])


def _now() -> int:
    return int(time.time())


ENDLESS = {
    "exp-1e308": lambda: signed(exp=1e308),
    "exp-1e308-without-iat": lambda: signed(exp=1e308, iat=DROP),
    "a-year": lambda: signed(exp=_now() + 366 * DAY),
    "a-week-and-a-second": lambda: signed(exp=_now() + 7 * DAY + 1),
    "eight-days-without-iat": lambda: signed(exp=_now() + 8 * DAY, iat=DROP),
    "issued-in-1970": lambda: signed(iat=0, exp=_now() + 60),
    "issued-a-month-ago": lambda: signed(iat=_now() - 30 * DAY, exp=_now() + 60),
    "exp-a-huge-integer": lambda: signed(exp=10 ** 30),
}


@pytest.mark.parametrize("case", list(ENDLESS), ids=list(ENDLESS))
async def test_a_token_with_an_endless_lifetime_is_refused_and_changes_nothing(hostile: Gateway, case: str) -> None:
    token = ENDLESS[case]()
    async with unchanged(hostile):
        body = await hostile.gql("mutation { setSystemMode(mode: INGESTION_READY) }", token=token)
    assert body["_status"] == 401 and body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", body
    assert "SPYNE_TOKEN_MAX_LIFETIME_S" in body["errors"][0]["message"]
    assert (await hostile.ok("{ systemMode }", role="VIEWER"))["systemMode"] == "READ_ONLY"


async def test_a_week_long_token_is_accepted(hostile: Gateway) -> None:
    data = await hostile.ok("{ me { email } }", token=signed(exp=_now() + 7 * DAY))
    assert data["me"]["email"] == "mallory@example.com"
    data = await hostile.ok("{ me { email } }", token=signed(exp=_now() + 3600, iat=DROP))
    assert data["me"]["email"] == "mallory@example.com"


async def test_the_leeway_after_exp_is_the_setting(hostile: Gateway) -> None:
    expired_20s_ago = signed(iat=_now() - 600, exp=_now() - 20)
    assert (await hostile.ok("{ me { email } }", token=expired_20s_ago))["me"]  # default leeway: 30 s
    strict = create_app(replace(hostile.settings, token_leeway_seconds=0))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=strict), base_url="http://gateway.test") as client:
        response = await client.post("/graphql", json={"query": "{ me { email } }"},
                                     headers={"Authorization": f"Bearer {expired_20s_ago}"})
    assert response.status_code == 401 and response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "expired" in response.json()["errors"][0]["message"]


async def test_the_maximum_lifetime_is_the_setting(hostile: Gateway) -> None:
    month = signed(exp=_now() + 30 * DAY)
    lenient = create_app(replace(hostile.settings, token_max_lifetime_seconds=31 * DAY))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=lenient), base_url="http://gateway.test") as client:
        response = await client.post("/graphql", json={"query": "{ me { email } }"},
                                     headers={"Authorization": f"Bearer {month}"})
    assert response.json()["data"]["me"]["email"] == "mallory@example.com"
    assert (await hostile.gql("{ me { email } }", token=month))["_status"] == 401


async def test_a_cached_token_is_checked_again() -> None:
    # Verified once, remembered, then the clock moves: the lifetime is not re-derived from a
    # later "now" (iat is present), but exp still ends it.
    now = [float(_now())]
    verifier = TokenVerifier(dev_secret=DEV_SECRET, clock=lambda: now[0])
    token = signed(exp=int(now[0]) + 60)
    await verifier.verify(token)
    now[0] += 60 + DEFAULT_LEEWAY_SECONDS + 1
    with pytest.raises(AuthFailure) as failure:
        await verifier.verify(token)
    assert failure.value.reason == "expired"


def test_the_settings_are_read_from_the_environment() -> None:
    settings = load_settings({"SPYNE_DEV_SECRET": DEV_SECRET.decode(), "SPYNE_TOKEN_LEEWAY_S": "5",
                              "SPYNE_TOKEN_MAX_LIFETIME_S": "3600"})
    assert (settings.token_leeway_seconds, settings.token_max_lifetime_seconds) == (5, 3600)
    defaults = load_settings({"SPYNE_DEV_SECRET": DEV_SECRET.decode()})
    assert (defaults.token_leeway_seconds, defaults.token_max_lifetime_seconds) == (
        DEFAULT_LEEWAY_SECONDS, DEFAULT_MAX_LIFETIME_SECONDS)


def test_spyne_token_refuses_a_ttl_the_gateway_would_refuse(tmp_path: Path) -> None:
    env = {"SPYNE_DEV_SECRET": DEV_SECRET.decode(), "PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
    refused = subprocess.run([sys.executable, "-m", "gateway.cli", "token", "--email", "a@b.c", "--role", "VIEWER",
                              "--ttl", "30d"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and "SPYNE_TOKEN_MAX_LIFETIME_S" in refused.stderr
    minted = subprocess.run([sys.executable, "-m", "gateway.cli", "token", "--email", "a@b.c", "--role", "VIEWER",
                             "--ttl", "7d"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert minted.returncode == 0 and minted.stdout.count(".") == 2
