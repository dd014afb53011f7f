"""OIDC mode against a real JWKS served over HTTP on 127.0.0.1: discovery, cache, rotation, outages."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from gateway.auth import AuthFailure, TokenVerifier
from gateway.auth.testing import DISCOVERY_PATH, JWKS_PATH, LocalIdentityProvider

AUDIENCE = "spyne-gateway"
T0 = 1_800_000_000.0


class Clock:
    """Wall time that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def rsa_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "rsa-1"}, private=True)


@pytest.fixture(scope="module")
def ec_key() -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": "ec-1"}, private=True)


@pytest.fixture
def idp(rsa_key: RSAKey, ec_key: ECKey) -> Iterator[LocalIdentityProvider]:
    with LocalIdentityProvider() as provider:
        provider.publish(rsa_key, ec_key)
        yield provider


@pytest.fixture
def clock() -> Clock:
    return Clock()


def oidc_verifier(idp: LocalIdentityProvider, clock: Clock, *, discover: bool = True, **options: Any) -> TokenVerifier:
    return TokenVerifier(
        dev_secret=None,
        oidc_issuer=idp.issuer,
        oidc_audience=AUDIENCE,
        jwks_url=None if discover else idp.jwks_url,
        clock=clock,
        **options,
    )


def token(idp: LocalIdentityProvider, key: RSAKey | ECKey, alg: str, clock: Clock, **claims: Any) -> str:
    body = {"iss": idp.issuer, "aud": AUDIENCE, "sub": "user-42", "iat": int(clock()), "exp": int(clock()) + 300}
    body.update(claims)
    return jwt.encode({"alg": alg, "kid": key.kid}, body, key, algorithms=[alg])


async def test_rs256_token_verifies_against_the_configured_jwks_url(
    idp: LocalIdentityProvider, rsa_key: RSAKey, clock: Clock
) -> None:
    verifier = oidc_verifier(idp, clock, discover=False)
    verified = await verifier.verify("Bearer " + token(idp, rsa_key, "RS256", clock, email="u@example.com"))
    assert (verified.subject, verified.email, verified.role_claim) == ("user-42", "u@example.com", None)
    assert idp.requests == {JWKS_PATH: 1}  # no discovery when the JWKS URL is given


async def test_es256_token_verifies_through_discovery(idp: LocalIdentityProvider, ec_key: ECKey, clock: Clock) -> None:
    verifier = oidc_verifier(idp, clock)
    verified = await verifier.verify(token(idp, ec_key, "ES256", clock, spyne_role="ENGINEER"))
    assert (verified.email, verified.role_claim) == ("user-42", "ENGINEER")  # email falls back to sub
    assert idp.requests == {DISCOVERY_PATH: 1, JWKS_PATH: 1}


async def test_audience_may_be_a_list_containing_ours(idp: LocalIdentityProvider, rsa_key: RSAKey, clock: Clock) -> None:
    verifier = oidc_verifier(idp, clock)
    verified = await verifier.verify(token(idp, rsa_key, "RS256", clock, aud=["other-api", AUDIENCE]))
    assert verified.subject == "user-42"


async def test_non_string_role_claim_is_not_passed_on(idp: LocalIdentityProvider, rsa_key: RSAKey, clock: Clock) -> None:
    verifier = oidc_verifier(idp, clock)
    verified = await verifier.verify(token(idp, rsa_key, "RS256", clock, spyne_role=["ADMIN"]))
    assert verified.role_claim is None
    assert verified.claims["spyne_role"] == ["ADMIN"]


async def test_keys_are_cached_between_requests(
    idp: LocalIdentityProvider, rsa_key: RSAKey, ec_key: ECKey, clock: Clock
) -> None:
    verifier = oidc_verifier(idp, clock)
    for _ in range(5):
        await verifier.verify(token(idp, rsa_key, "RS256", clock))
        await verifier.verify(token(idp, ec_key, "ES256", clock))
    assert idp.requests == {DISCOVERY_PATH: 1, JWKS_PATH: 1}


async def test_cache_is_refetched_after_its_ttl(idp: LocalIdentityProvider, rsa_key: RSAKey, clock: Clock) -> None:
    verifier = oidc_verifier(idp, clock, jwks_cache_seconds=300)
    await verifier.verify(token(idp, rsa_key, "RS256", clock))
    clock.now += 299
    await verifier.verify(token(idp, rsa_key, "RS256", clock))
    assert idp.requests[JWKS_PATH] == 1
    clock.now += 2
    await verifier.verify(token(idp, rsa_key, "RS256", clock))
    assert idp.requests[JWKS_PATH] == 2


async def test_key_rotation_new_kid_triggers_one_refresh_then_is_accepted(
    idp: LocalIdentityProvider, rsa_key: RSAKey, clock: Clock
) -> None:
    verifier = oidc_verifier(idp, clock, jwks_min_refresh_seconds=30)
    await verifier.verify(token(idp, rsa_key, "RS256", clock))
    assert idp.requests[JWKS_PATH] == 1

    rotated = RSAKey.generate_key(2048, parameters={"kid": "rsa-2"}, private=True)
    idp.publish(rotated)
    idp.retire("rsa-1")
    clock.now += 31  # past the refresh interval, well inside the cache TTL
    verified = await verifier.verify(token(idp, rotated, "RS256", clock))
    assert verified.subject == "user-42"
    assert idp.requests[JWKS_PATH] == 2  # exactly one refresh for the new kid

    with pytest.raises(AuthFailure) as failure:  # the retired key is gone with the refresh
        await verifier.verify(token(idp, rsa_key, "RS256", clock))
    assert failure.value.reason == "unknown_kid"
    assert idp.requests[JWKS_PATH] == 2  # and asking again so soon fetched nothing


async def test_unknown_kids_refresh_at_most_once_per_interval(
    idp: LocalIdentityProvider, rsa_key: RSAKey, clock: Clock
) -> None:
    verifier = oidc_verifier(idp, clock, jwks_min_refresh_seconds=30)
    await verifier.verify(token(idp, rsa_key, "RS256", clock))
    clock.now += 31
    for i in range(20):
        stranger = RSAKey.import_key(rsa_key.as_dict(private=True), parameters={"kid": f"random-{i}"})
        with pytest.raises(AuthFailure) as failure:
            await verifier.verify(token(idp, stranger, "RS256", clock))
        assert failure.value.reason == "unknown_kid"
    assert idp.requests[JWKS_PATH] == 2  # one refresh for twenty unknown kids


async def test_concurrent_first_requests_fetch_the_jwks_once(
    idp: LocalIdentityProvider, rsa_key: RSAKey, clock: Clock
) -> None:
    verifier = oidc_verifier(idp, clock)
    tokens = [token(idp, rsa_key, "RS256", clock, sub=f"user-{i}") for i in range(20)]
    verified = await asyncio.gather(*(verifier.verify(t) for t in tokens))
    assert [v.subject for v in verified] == [f"user-{i}" for i in range(20)]
    assert idp.requests == {DISCOVERY_PATH: 1, JWKS_PATH: 1}


async def test_warm_up_fetches_before_the_first_request(idp: LocalIdentityProvider, rsa_key: RSAKey, clock: Clock) -> None:
    verifier = oidc_verifier(idp, clock)
    await verifier.warm_up()
    assert idp.requests[JWKS_PATH] == 1
    await verifier.verify(token(idp, rsa_key, "RS256", clock))
    assert idp.requests[JWKS_PATH] == 1


async def test_keys_held_stay_in_use_while_the_provider_is_down(
    idp: LocalIdentityProvider, rsa_key: RSAKey, clock: Clock
) -> None:
    verifier = oidc_verifier(idp, clock, jwks_cache_seconds=60)
    await verifier.verify(token(idp, rsa_key, "RS256", clock))
    idp.fail_with(503)
    clock.now += 120  # the cache is stale and the refresh fails
    assert (await verifier.verify(token(idp, rsa_key, "RS256", clock))).subject == "user-42"
    assert idp.requests[JWKS_PATH] == 2


async def test_provider_down_from_the_start_is_jwks_unavailable_then_recovers(
    idp: LocalIdentityProvider, rsa_key: RSAKey, clock: Clock
) -> None:
    verifier = oidc_verifier(idp, clock, jwks_min_refresh_seconds=30)
    idp.fail_with(500)
    with pytest.raises(AuthFailure) as failure:
        await verifier.verify(token(idp, rsa_key, "RS256", clock))
    assert failure.value.reason == "jwks_unavailable"
    idp.fail_with(None)
    clock.now += 31
    assert (await verifier.verify(token(idp, rsa_key, "RS256", clock))).subject == "user-42"


async def test_unreachable_jwks_url_is_jwks_unavailable(rsa_key: RSAKey, clock: Clock) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    verifier = TokenVerifier(
        dev_secret=None,
        oidc_issuer=f"http://127.0.0.1:{port}",
        oidc_audience=AUDIENCE,
        jwks_url=f"http://127.0.0.1:{port}/jwks.json",
        clock=clock,
        http_timeout=2.0,
    )
    body = {"iss": f"http://127.0.0.1:{port}", "aud": AUDIENCE, "sub": "u", "exp": int(clock()) + 60}
    with pytest.raises(AuthFailure) as failure:
        await verifier.verify(jwt.encode({"alg": "RS256", "kid": "rsa-1"}, body, rsa_key, algorithms=["RS256"]))
    assert failure.value.reason == "jwks_unavailable"


@pytest.mark.parametrize(
    "overrides",
    [
        {"issuer": "http://127.0.0.1:1/someone-else"},  # OIDC Discovery §4.3: must be the issuer asked
        {"jwks_uri": "http://keys.example.com/jwks.json"},  # plain http off loopback is refused
        {"jwks_uri": None},
    ],
    ids=["issuer-mismatch", "insecure-jwks-uri", "no-jwks-uri"],
)
async def test_a_discovery_document_that_fails_its_checks_is_jwks_unavailable(
    idp: LocalIdentityProvider, rsa_key: RSAKey, clock: Clock, overrides: dict[str, Any]
) -> None:
    idp.discovery_overrides.update(overrides)
    with pytest.raises(AuthFailure) as failure:
        await oidc_verifier(idp, clock).verify(token(idp, rsa_key, "RS256", clock))
    assert failure.value.reason == "jwks_unavailable"
    assert JWKS_PATH not in idp.requests


async def test_unusable_jwks_entries_are_skipped_and_the_good_keys_still_work(
    idp: LocalIdentityProvider, rsa_key: RSAKey, clock: Clock
) -> None:
    idp.publish_raw("broken", {"kty": "RSA", "kid": "broken", "n": "not-base64!", "e": "AQAB"})
    idp.publish_raw("no-kty", {"kid": "no-kty"})
    idp.publish_raw("weird", {"kty": "OKP", "kid": "weird", "crv": "Ed25519", "x": "AAAA"})
    verified = await oidc_verifier(idp, clock).verify(token(idp, rsa_key, "RS256", clock))
    assert verified.subject == "user-42"


async def test_a_jwks_that_is_not_a_key_set_is_jwks_unavailable(
    idp: LocalIdentityProvider, rsa_key: RSAKey, clock: Clock
) -> None:
    idp.discovery_overrides["jwks_uri"] = idp.issuer + DISCOVERY_PATH  # JSON, but not a JWKS
    with pytest.raises(AuthFailure) as failure:
        await oidc_verifier(idp, clock).verify(token(idp, rsa_key, "RS256", clock))
    assert failure.value.reason == "jwks_unavailable"


async def test_only_public_halves_are_served(idp: LocalIdentityProvider, rsa_key: RSAKey) -> None:
    import httpx

    async with httpx.AsyncClient() as client:
        keys = (await client.get(idp.jwks_url)).json()["keys"]
    assert {k["kid"] for k in keys} == {"rsa-1", "ec-1"}
    assert all("d" not in k for k in keys)

