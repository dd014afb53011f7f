"""Dev mode: HS256 tokens minted by ``spyne token`` and verified with the local dev key."""

from __future__ import annotations

import pytest

import gateway.auth
from gateway.auth import (
    DEV_AUDIENCE,
    DEV_ISSUER,
    REASONS,
    AuthFailure,
    TokenVerifier,
    VerifiedToken,
    mint_dev_token,
    parse_ttl,
)
from gateway.errors import Unauthenticated

SECRET = b"dev-secret-for-tests-0123456789abcdef"
NOW = 1_800_000_000.0


def verifier(**options: object) -> TokenVerifier:
    return TokenVerifier(dev_secret=SECRET, clock=lambda: NOW, **options)  # type: ignore[arg-type]


async def test_dev_token_round_trip() -> None:
    token = mint_dev_token(SECRET, "ana@example.com", "ANALYST", 3600, now=NOW)
    verified = await verifier().verify(f"Bearer {token}")
    assert verified == VerifiedToken(
        subject="ana@example.com",
        email="ana@example.com",
        claims=verified.claims,
        role_claim="ANALYST",
    )
    assert verified.claims["iss"] == DEV_ISSUER
    assert verified.claims["aud"] == DEV_AUDIENCE
    assert verified.claims["exp"] == int(NOW) + 3600


async def test_bare_token_and_any_case_of_the_bearer_scheme_are_accepted() -> None:
    token = mint_dev_token(SECRET, "a@example.com", "VIEWER", 60, now=NOW)
    for value in (token, f"bearer {token}", f"BEARER  {token}", f"  Bearer {token}  "):
        assert (await verifier().verify(value)).email == "a@example.com"


async def test_claims_are_read_only() -> None:
    token = mint_dev_token(SECRET, "a@example.com", "VIEWER", 60, now=NOW)
    verified = await verifier().verify(token)
    with pytest.raises(TypeError):
        verified.claims["spyne_role"] = "ADMIN"  # type: ignore[index]


async def test_role_claim_is_returned_raw_under_the_configured_name() -> None:
    token = mint_dev_token(SECRET, "e@example.com", "engineer", 60, now=NOW, role_claim="groups_role")
    assert (await verifier(role_claim="groups_role").verify(token)).role_claim == "ENGINEER"
    assert (await verifier().verify(token)).role_claim is None  # the default claim is absent


async def test_dev_token_is_valid_until_exp_plus_leeway_only() -> None:
    token = mint_dev_token(SECRET, "a@example.com", "VIEWER", 60, now=NOW)
    inside = TokenVerifier(dev_secret=SECRET, clock=lambda: NOW + 60 + 29, leeway_seconds=30)
    assert (await inside.verify(token)).subject == "a@example.com"
    outside = TokenVerifier(dev_secret=SECRET, clock=lambda: NOW + 60 + 31, leeway_seconds=30)
    with pytest.raises(AuthFailure) as failure:
        await outside.verify(token)
    assert failure.value.reason == "expired"


async def test_dev_token_of_another_secret_is_a_bad_signature() -> None:
    token = mint_dev_token(b"another-dev-secret-0123456789abcdef", "a@example.com", "ADMIN", 60, now=NOW)
    with pytest.raises(AuthFailure) as failure:
        await verifier().verify(token)
    assert failure.value.reason == "bad_signature"


async def test_failure_is_unauthenticated_with_a_bounded_reason_and_no_secret() -> None:
    with pytest.raises(Unauthenticated) as failure:
        await verifier().verify(None)
    assert isinstance(failure.value, AuthFailure)
    assert failure.value.code == "UNAUTHENTICATED"
    assert failure.value.reason in REASONS
    assert SECRET.decode() not in failure.value.message


def test_every_reason_has_a_message_that_leaks_nothing() -> None:
    assert len(set(REASONS)) == len(REASONS)
    for reason in REASONS:
        message = AuthFailure(reason).message
        assert message.endswith(".") and "Traceback" not in message


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("3600", 3600), ("45s", 45), ("30m", 1800), ("1h", 3600), (" 1H ", 3600), ("7d", 604800), ("2w", 1209600)],
)
def test_parse_ttl(text: str, seconds: int) -> None:
    assert parse_ttl(text) == seconds


@pytest.mark.parametrize("text", ["", "h", "1.5h", "-1h", "1 h", "1y", "0", "0m", "400d", "1h30m", "\uff11h"])
def test_parse_ttl_refuses_with_a_clear_message(text: str) -> None:
    with pytest.raises(ValueError, match="invalid TTL"):
        parse_ttl(text)


def test_mint_refuses_an_unknown_role_a_short_secret_and_an_empty_lifetime() -> None:
    with pytest.raises(ValueError, match="unknown role 'OWNER'"):
        mint_dev_token(SECRET, "a@example.com", "OWNER", 60)
    with pytest.raises(ValueError, match="at least 32 bytes"):
        mint_dev_token(b"short", "a@example.com", "ADMIN", 60)
    with pytest.raises(ValueError, match="ttl_seconds"):
        mint_dev_token(SECRET, "a@example.com", "ADMIN", 0)
    with pytest.raises(ValueError, match="email"):
        mint_dev_token(SECRET, " ", "ADMIN", 60)


def test_configuration_mistakes_fail_at_start_up() -> None:
    with pytest.raises(ValueError, match="SPYNE_DEV_SECRET or SPYNE_OIDC_ISSUER"):
        TokenVerifier(dev_secret=None)
    with pytest.raises(ValueError, match="SPYNE_OIDC_AUDIENCE"):
        TokenVerifier(dev_secret=None, oidc_issuer="https://idp.example.com")
    with pytest.raises(ValueError, match="SPYNE_OIDC_ISSUER"):
        TokenVerifier(dev_secret=SECRET, jwks_url="https://idp.example.com/jwks")
    with pytest.raises(ValueError, match="at least 32 bytes"):
        TokenVerifier(dev_secret=b"too-short")
    with pytest.raises(ValueError, match="must use https"):
        TokenVerifier(
            dev_secret=None,
            oidc_issuer="https://idp.example.com",
            oidc_audience="spyne",
            jwks_url="http://idp.example.com/jwks",
        )


def test_oidc_enabled_says_which_mode_the_verifier_is_in() -> None:
    assert not verifier().oidc_enabled
    oidc = TokenVerifier(dev_secret=SECRET, oidc_issuer="https://idp.example.com", oidc_audience="spyne")
    assert oidc.oidc_enabled  # the dev secret is then ignored: dev tokens are refused


def test_public_surface_is_pinned() -> None:
    assert set(gateway.auth.__all__) == {
        "DEV_ALGORITHMS",
        "DEV_AUDIENCE",
        "DEV_ISSUER",
        "MAX_TTL_SECONDS",
        "MIN_DEV_SECRET_BYTES",
        "OIDC_ALGORITHMS",
        "REASONS",
        "AuthFailure",
        "Reason",
        "TokenVerifier",
        "VerifiedToken",
        "mint_dev_token",
        "parse_ttl",
    }
    for name in gateway.auth.__all__:
        assert getattr(gateway.auth, name) is not None
