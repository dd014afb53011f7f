"""Hostile and broken JWTs: each is refused with UNAUTHENTICATED and its exact reason.

OIDC cases run against a real JWKS served on 127.0.0.1; the verifier has fetched it once before
the attack, and every case also asserts that the hostile token made no further request to the
identity provider (no token can make the gateway fetch a URL, or hammer the provider).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from gateway.auth import AuthFailure, Reason, TokenVerifier, mint_dev_token
from gateway.auth.testing import LocalIdentityProvider, sign_token

AUDIENCE = "spyne-gateway"
NOW = 1_800_000_000
LEEWAY = 30
DEV_SECRET = b"the-local-dev-secret-0123456789abcdef"
DROP = object()  # a claim value meaning "leave this claim out"


@dataclass
class Keys:
    rsa: RSAKey  # rsa-1, published
    rsa2: RSAKey  # rsa-2, published
    ec: ECKey  # ec-1 (P-256), published
    ec384: ECKey  # ec-384, published, unusable for ES256
    attacker_rsa: RSAKey  # never published
    attacker_ec: ECKey  # never published


@dataclass
class Ctx:
    issuer: str
    keys: Keys

    def claims(self, **changes: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "iss": self.issuer,
            "aud": AUDIENCE,
            "sub": "mallory",
            "email": "mallory@example.com",
            "spyne_role": "VIEWER",
            "iat": NOW,
            "exp": NOW + 300,
        }
        body.update(changes)
        return {k: v for k, v in body.items() if v is not DROP}

    def rs256(self, header: dict[str, Any] | None = None, key: RSAKey | None = None, **changes: Any) -> str:
        return sign_token({"alg": "RS256", "kid": "rsa-1", **(header or {})}, self.claims(**changes), key or self.keys.rsa)

    def es256(self, header: dict[str, Any] | None = None, key: ECKey | None = None, **changes: Any) -> str:
        return sign_token({"alg": "ES256", "kid": "ec-1", **(header or {})}, self.claims(**changes), key or self.keys.ec)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def swap_payload(token: str, claims: dict[str, Any]) -> str:
    header, _, signature = token.split(".")
    return f"{header}.{b64(json.dumps(claims).encode())}.{signature}"


def swap_header(token: str, header: dict[str, Any]) -> str:
    _, payload, signature = token.split(".")
    return f"{b64(json.dumps(header).encode())}.{payload}.{signature}"


def dev_claims(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "iss": "spyne-dev",
        "aud": "spyne",
        "sub": "mallory@example.com",
        "spyne_role": "VIEWER",
        "exp": NOW + 300,
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not DROP}


Make = Callable[[Ctx], str | None]
OIDC_CASES: list[tuple[str, Make, Reason]] = [
    # time
    ("expired", lambda c: c.rs256(exp=NOW - LEEWAY - 1), "expired"),
    ("expired-a-day-ago", lambda c: c.es256(exp=NOW - 86400), "expired"),
    ("not-before-in-the-future", lambda c: c.rs256(nbf=NOW + LEEWAY + 60), "not_yet_valid"),
    ("issued-in-the-future", lambda c: c.rs256(iat=NOW + LEEWAY + 60), "not_yet_valid"),
    # issuer and audience
    ("wrong-issuer", lambda c: c.rs256(iss="https://evil.example.com"), "bad_issuer"),
    ("issuer-with-trailing-slash", lambda c: c.rs256(iss=c.issuer + "/"), "bad_issuer"),
    ("issuer-missing", lambda c: c.rs256(iss=DROP), "bad_issuer"),
    ("issuer-as-list", lambda c: c.rs256(iss=[c.issuer]), "bad_issuer"),
    ("wrong-audience", lambda c: c.rs256(aud="another-api"), "bad_audience"),
    ("audience-list-without-ours", lambda c: c.rs256(aud=["a", "b"]), "bad_audience"),
    ("audience-missing", lambda c: c.rs256(aud=DROP), "bad_audience"),
    ("audience-prefix-of-ours", lambda c: c.rs256(aud=AUDIENCE[:-1]), "bad_audience"),
    # alg: none
    ("alg-none", lambda c: sign_token({"alg": "none", "kid": "rsa-1"}, c.claims(), None), "bad_algorithm"),
    ("alg-None", lambda c: sign_token({"alg": "None"}, c.claims(), None), "bad_algorithm"),
    ("alg-NONE", lambda c: sign_token({"alg": "NONE"}, c.claims(), None), "bad_algorithm"),
    ("alg-none-with-signature", lambda c: sign_token({"alg": "none", "kid": "rsa-1"}, c.claims(), None) + "c2ln",
     "bad_algorithm"),
    # HS/RS key confusion and other algorithms
    ("hs256-keyed-with-rsa-public-pem", lambda c: sign_token(
        {"alg": "HS256", "kid": "rsa-1"}, c.claims(), c.keys.rsa.as_pem(private=False)), "bad_algorithm"),
    ("hs256-keyed-with-rsa-public-jwk", lambda c: sign_token(
        {"alg": "HS256", "kid": "rsa-1"}, c.claims(), json.dumps(c.keys.rsa.as_dict(private=False)).encode()), "bad_algorithm"),
    ("hs256-keyed-with-ec-public-pem", lambda c: sign_token(
        {"alg": "HS256", "kid": "ec-1"}, c.claims(), c.keys.ec.as_pem(private=False)), "bad_algorithm"),
    ("hs256-with-oct-key-published-in-jwks", lambda c: sign_token(
        {"alg": "HS256", "kid": "oct-1"}, c.claims(), b"published-symmetric-secret-0123456789"), "bad_algorithm"),
    ("dev-token-in-oidc-mode", lambda c: mint_dev_token(DEV_SECRET, "mallory@example.com", "ADMIN", 300, now=NOW),
     "bad_algorithm"),
    ("hs512", lambda c: sign_token({"alg": "HS512", "kid": "rsa-1"}, c.claims(), b"x" * 64), "bad_algorithm"),
    ("rs512", lambda c: c.rs256({"alg": "RS512"}), "bad_algorithm"),
    ("ps256", lambda c: c.rs256({"alg": "PS256"}), "bad_algorithm"),
    ("es384", lambda c: sign_token({"alg": "ES384", "kid": "ec-384"}, c.claims(), c.keys.ec384), "bad_algorithm"),
    ("rs256-lowercase", lambda c: sign_token({"alg": "rs256", "kid": "rsa-1"}, c.claims(), c.keys.rsa, sign_as="RS256"),
     "bad_algorithm"),
    ("es256-naming-an-rsa-kid", lambda c: c.es256({"kid": "rsa-1"}), "bad_algorithm"),
    ("rs256-naming-an-ec-kid", lambda c: c.rs256({"kid": "ec-1"}), "bad_algorithm"),
    ("es256-naming-a-p384-kid", lambda c: c.es256({"kid": "ec-384"}), "bad_algorithm"),
    ("rs256-naming-a-key-published-for-rs512", lambda c: c.rs256({"kid": "rsa-rs512"}), "bad_algorithm"),
    # key ids
    ("unknown-kid", lambda c: c.rs256({"kid": "no-such-key"}, key=c.keys.attacker_rsa), "unknown_kid"),
    ("missing-kid", lambda c: sign_token({"alg": "RS256"}, c.claims(), c.keys.rsa), "unknown_kid"),
    ("kid-of-an-encryption-key", lambda c: c.rs256({"kid": "rsa-enc"}), "unknown_kid"),
    ("rs256-naming-an-oct-kid", lambda c: c.rs256({"kid": "oct-1"}), "unknown_kid"),
    ("kid-path-traversal", lambda c: c.rs256({"kid": "../../etc/passwd"}), "unknown_kid"),
    ("kid-sql-injection", lambda c: c.rs256({"kid": "' OR 1=1 --"}), "unknown_kid"),
    ("kid-as-number", lambda c: c.rs256({"kid": 1}), "malformed"),
    # signatures
    ("tampered-payload-role", lambda c: swap_payload(c.rs256(), c.claims(spyne_role="ADMIN")), "bad_signature"),
    ("tampered-payload-subject", lambda c: swap_payload(c.es256(), c.claims(sub="admin")), "bad_signature"),
    ("tampered-payload-exp", lambda c: swap_payload(c.rs256(exp=NOW - 3600), c.claims()), "bad_signature"),
    ("tampered-header-kid", lambda c: swap_header(c.rs256(), {"alg": "RS256", "kid": "rsa-2"}), "bad_signature"),
    ("attacker-key-with-a-known-kid", lambda c: c.rs256(key=c.keys.attacker_rsa), "bad_signature"),
    ("attacker-ec-key-with-a-known-kid", lambda c: c.es256(key=c.keys.attacker_ec), "bad_signature"),
    ("signature-stripped", lambda c: c.rs256()[: c.rs256().rindex(".") + 1], "bad_signature"),
    ("signature-truncated", lambda c: c.rs256()[:-10], "bad_signature"),
    ("signature-of-another-token", lambda c: c.rs256().rsplit(".", 1)[0] + "." + c.rs256(sub="x").rsplit(".", 1)[1],
     "bad_signature"),
    # keys and URLs carried by the token itself
    ("embedded-jwk-attacker-key", lambda c: c.rs256(
        {"kid": "evil", "jwk": dict(c.keys.attacker_rsa.as_dict(private=False))}, key=c.keys.attacker_rsa), "forbidden_header"),
    ("embedded-jwk-with-known-kid", lambda c: c.rs256(
        {"jwk": dict(c.keys.attacker_rsa.as_dict(private=False))}, key=c.keys.attacker_rsa), "forbidden_header"),
    ("jku", lambda c: c.rs256({"jku": "https://evil.example.com/jwks.json"}), "forbidden_header"),
    ("jku-on-our-own-issuer", lambda c: c.rs256({"jku": c.issuer + "/jwks.json"}), "forbidden_header"),
    ("x5u", lambda c: c.rs256({"x5u": "https://evil.example.com/cert.pem"}), "forbidden_header"),
    ("x5c", lambda c: c.rs256({"x5c": ["MIIB"]}), "forbidden_header"),
    # critical extensions
    ("crit-exp", lambda c: c.rs256({"crit": ["exp"], "exp": NOW}), "crit"),
    ("crit-empty", lambda c: c.rs256({"crit": []}), "crit"),
    ("crit-b64-false", lambda c: c.rs256({"crit": ["b64"], "b64": False}), "crit"),
    # size
    ("oversized-claims", lambda c: c.rs256(padding="A" * 9000), "oversized"),
    ("oversized-header-value", lambda c: "Bearer " + "A" * 1_000_000, "oversized"),
    # structure
    ("garbage", lambda c: "garbage", "malformed"),
    ("two-segments", lambda c: "a.b", "malformed"),
    ("jwe-shaped", lambda c: "a.b.c.d.e", "malformed"),
    ("empty-segments", lambda c: "..", "malformed"),
    ("header-not-base64url", lambda c: "e30!.e30.c2ln", "malformed"),
    ("header-not-json", lambda c: f"{b64(b'not json')}.e30.c2ln", "malformed"),
    ("header-is-a-list", lambda c: f"{b64(b'[1]')}.e30.c2ln", "malformed"),
    ("header-without-alg", lambda c: sign_token({"kid": "rsa-1"}, c.claims(), None), "malformed"),
    ("alg-as-number", lambda c: f"{b64(json.dumps({'alg': 256}).encode())}.e30.c2ln", "malformed"),
    ("non-ascii-token", lambda c: "é.é.é", "malformed"),
    ("header-deeply-nested-json", lambda c: f"{b64(b'[' * 5000)}.e30.c2ln", "malformed"),
    ("header-not-utf8", lambda c: f"{b64(bytes([0xFF, 0xFE, 0x00]))}.e30.c2ln", "malformed"),
    ("payload-deeply-nested-json-signed", lambda c: sign_token(
        {"alg": "RS256", "kid": "rsa-1"}, b"[" * 5000, c.keys.rsa), "malformed"),
    ("payload-not-json", lambda c: sign_token({"alg": "RS256", "kid": "rsa-1"}, b"not json", c.keys.rsa), "malformed"),
    ("payload-a-json-list", lambda c: sign_token({"alg": "RS256", "kid": "rsa-1"}, b"[1,2]", c.keys.rsa), "malformed"),
    ("exp-missing", lambda c: c.rs256(exp=DROP), "malformed"),
    ("exp-a-string", lambda c: c.rs256(exp=str(NOW + 300)), "malformed"),
    ("exp-a-boolean", lambda c: c.rs256(exp=True), "malformed"),
    ("exp-nan", lambda c: sign_token(
        {"alg": "RS256", "kid": "rsa-1"}, json.dumps(c.claims(exp=float("nan"))).encode(), c.keys.rsa), "malformed"),
    ("sub-missing", lambda c: c.rs256(sub=DROP), "malformed"),
    ("sub-a-number", lambda c: c.rs256(sub=42), "malformed"),
    ("sub-empty", lambda c: c.rs256(sub=""), "malformed"),
    ("basic-scheme", lambda c: "Basic bWFsbG9yeTpwYXNzd29yZA==", "malformed"),
    ("bearer-with-two-tokens", lambda c: f"Bearer {c.rs256()} {c.rs256()}", "malformed"),
    # nothing at all
    ("none", lambda c: None, "missing"),
    ("empty", lambda c: "", "missing"),
    ("blank", lambda c: "   ", "missing"),
    ("bearer-alone", lambda c: "Bearer", "missing"),
    ("bearer-and-spaces", lambda c: "Bearer   ", "missing"),
]


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys(
        rsa=RSAKey.generate_key(2048, parameters={"kid": "rsa-1"}, private=True),
        rsa2=RSAKey.generate_key(2048, parameters={"kid": "rsa-2"}, private=True),
        ec=ECKey.generate_key("P-256", parameters={"kid": "ec-1"}, private=True),
        ec384=ECKey.generate_key("P-384", parameters={"kid": "ec-384"}, private=True),
        attacker_rsa=RSAKey.generate_key(2048, parameters={"kid": "rsa-1"}, private=True),
        attacker_ec=ECKey.generate_key("P-256", parameters={"kid": "ec-1"}, private=True),
    )


@pytest.fixture(scope="module")
def idp(keys: Keys) -> Iterator[LocalIdentityProvider]:
    with LocalIdentityProvider() as provider:
        provider.publish(keys.rsa, keys.rsa2, keys.ec, keys.ec384)
        enc = RSAKey.generate_key(2048, parameters={"kid": "rsa-enc", "use": "enc"}, private=True)
        provider.publish_raw("rsa-enc", enc.as_dict(private=False))
        rs512 = RSAKey.generate_key(2048, parameters={"kid": "rsa-rs512", "alg": "RS512"}, private=True)
        provider.publish_raw("rsa-rs512", rs512.as_dict(private=False))
        secret = b64(b"published-symmetric-secret-0123456789")
        provider.publish_raw("oct-1", {"kty": "oct", "kid": "oct-1", "k": secret})
        yield provider


async def test_the_legitimate_tokens_of_the_fixture_are_accepted(idp: LocalIdentityProvider, keys: Keys) -> None:
    ctx, verifier = Ctx(idp.issuer, keys), oidc_verifier(idp)
    assert (await verifier.verify(ctx.rs256())).subject == "mallory"
    assert (await verifier.verify(ctx.es256())).subject == "mallory"
    assert (await verifier.verify(ctx.rs256({"kid": "rsa-2"}, key=keys.rsa2))).subject == "mallory"


@pytest.mark.parametrize(("make", "reason"), [(m, r) for _, m, r in OIDC_CASES], ids=[n for n, _, _ in OIDC_CASES])
async def test_oidc_mode_refuses(idp: LocalIdentityProvider, keys: Keys, make: Make, reason: Reason) -> None:
    verifier = oidc_verifier(idp)
    await verifier.warm_up()
    requests_before = idp.requests.total()
    with pytest.raises(AuthFailure) as failure:
        await verifier.verify(make(Ctx(idp.issuer, keys)))
    assert (failure.value.code, failure.value.reason) == ("UNAUTHENTICATED", reason)
    assert idp.requests.total() == requests_before


DEV_CASES: list[tuple[str, Make, Reason]] = [
    ("alg-none", lambda c: sign_token({"alg": "none"}, dev_claims(), None), "bad_algorithm"),
    ("rs256-token", lambda c: sign_token({"alg": "RS256"}, dev_claims(), c.keys.attacker_rsa), "bad_algorithm"),
    ("hs256-keyed-with-an-rsa-pem", lambda c: sign_token(
        {"alg": "HS256"}, dev_claims(), c.keys.attacker_rsa.as_pem(private=False)), "bad_signature"),
    ("hs384-with-the-dev-secret", lambda c: sign_token({"alg": "HS384"}, dev_claims(), DEV_SECRET), "bad_algorithm"),
    ("hs512-with-the-dev-secret", lambda c: sign_token({"alg": "HS512"}, dev_claims(), DEV_SECRET), "bad_algorithm"),
    ("another-secret", lambda c: mint_dev_token(b"y" * 32, "mallory@example.com", "ADMIN", 300, now=NOW), "bad_signature"),
    ("tampered-role", lambda c: swap_payload(
        sign_token({"alg": "HS256"}, dev_claims(), DEV_SECRET), dev_claims(spyne_role="ADMIN")), "bad_signature"),
    ("expired", lambda c: mint_dev_token(DEV_SECRET, "m@example.com", "VIEWER", 60, now=NOW - 120), "expired"),
    ("not-yet-valid", lambda c: mint_dev_token(DEV_SECRET, "m@example.com", "VIEWER", 600, now=NOW + 300), "not_yet_valid"),
    ("wrong-issuer", lambda c: sign_token({"alg": "HS256"}, dev_claims(iss="someone"), DEV_SECRET), "bad_issuer"),
    ("wrong-audience", lambda c: sign_token({"alg": "HS256"}, dev_claims(aud="other"), DEV_SECRET), "bad_audience"),
    ("no-exp", lambda c: sign_token({"alg": "HS256"}, dev_claims(exp=DROP), DEV_SECRET), "malformed"),
    ("embedded-jwk", lambda c: sign_token(
        {"alg": "HS256", "jwk": {"kty": "oct", "k": b64(b"z" * 32)}}, dev_claims(), b"z" * 32), "forbidden_header"),
    ("crit", lambda c: sign_token({"alg": "HS256", "crit": ["exp"]}, dev_claims(), DEV_SECRET), "crit"),
    ("oversized", lambda c: sign_token({"alg": "HS256"}, dev_claims(pad="A" * 9000), DEV_SECRET), "oversized"),
    ("payload-deeply-nested-json-signed", lambda c: sign_token({"alg": "HS256"}, b"[" * 5000, DEV_SECRET),
     "malformed"),
]


@pytest.mark.parametrize(("make", "reason"), [(m, r) for _, m, r in DEV_CASES], ids=[n for n, _, _ in DEV_CASES])
async def test_dev_mode_refuses(keys: Keys, make: Make, reason: Reason) -> None:
    verifier = TokenVerifier(dev_secret=DEV_SECRET, clock=lambda: NOW, leeway_seconds=LEEWAY)
    assert (await verifier.verify(sign_token({"alg": "HS256"}, dev_claims(), DEV_SECRET))).subject  # control
    with pytest.raises(AuthFailure) as failure:
        await verifier.verify(make(Ctx("", keys)))
    assert (failure.value.code, failure.value.reason) == ("UNAUTHENTICATED", reason)


def oidc_verifier(idp: LocalIdentityProvider) -> TokenVerifier:
    return TokenVerifier(
        dev_secret=DEV_SECRET,  # present but ignored: an issuer is configured
        oidc_issuer=idp.issuer,
        oidc_audience=AUDIENCE,
        clock=lambda: NOW,
        leeway_seconds=LEEWAY,
    )


def test_the_suite_is_large_and_names_are_unique() -> None:
    names = [n for n, _, _ in OIDC_CASES] + [f"dev-{n}" for n, _, _ in DEV_CASES]
    assert len(names) == len(set(names)) >= 80


def test_fixture_jwt_encoder_agrees_with_the_forger(keys: Keys) -> None:
    # sign_token must produce what joserfc would, or the cases above would test the forger.
    claims = {"sub": "x", "exp": NOW}
    header = {"alg": "RS256", "kid": "rsa-1"}
    forged = sign_token(header, claims, keys.rsa)
    assert jwt.decode(forged, keys.rsa, algorithms=["RS256"]).claims == claims
