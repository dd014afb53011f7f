"""Whatever arrives in the Authorization header, the verifier answers a token or an AuthFailure.

Anything else (a KeyError, a RecursionError, a TypeError from a library) would surface as an
internal error instead of UNAUTHENTICATED.
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.auth import REASONS, AuthFailure, TokenVerifier, VerifiedToken
from gateway.auth.testing import sign_token

SECRET = b"fuzzing-dev-secret-0123456789abcdef"
NOW = 1_800_000_000
VERIFIER = TokenVerifier(dev_secret=SECRET, clock=lambda: NOW)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
header_values = st.dictionaries(
    st.sampled_from(["alg", "kid", "typ", "crit", "jwk", "b64", "cty", "x5t", "zip"]) | st.text(max_size=6),
    json_values | st.sampled_from(["HS256", "RS256", "none", "ES256"]),
    max_size=5,
)
claim_values = st.dictionaries(
    st.sampled_from(["iss", "aud", "sub", "exp", "nbf", "iat", "email", "spyne_role"]) | st.text(max_size=6),
    json_values | st.sampled_from(["spyne-dev", "spyne", NOW + 60, NOW - 60, "someone@example.com"]),
    max_size=8,
)


def outcome(value: Any) -> VerifiedToken | AuthFailure:
    try:
        return asyncio.run(VERIFIER.verify(value))
    except AuthFailure as failure:
        assert failure.reason in REASONS
        return failure


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_any_text_is_refused_cleanly(value: str) -> None:
    assert isinstance(outcome(value), AuthFailure)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=60), min_size=1, max_size=5))
def test_any_dotted_base64_is_refused_cleanly(parts: list[bytes]) -> None:
    token = ".".join(base64.urlsafe_b64encode(p).rstrip(b"=").decode() for p in parts)
    assert isinstance(outcome("Bearer " + token), AuthFailure)


@settings(max_examples=400, deadline=None)
@given(header_values, claim_values)
def test_any_validly_signed_header_and_claims_give_a_token_or_a_clean_refusal(
    header: dict[str, Any], claims: dict[str, Any]
) -> None:
    result = outcome(sign_token(header, json.dumps(claims).encode(), SECRET, sign_as="HS256"))
    if isinstance(result, VerifiedToken):
        # Only what a dev token must be gets through.
        assert header.get("alg") == "HS256" and not {"crit", "jwk", "jku", "x5u", "x5c"} & set(header)
        assert claims["iss"] == "spyne-dev" and claims["exp"] > NOW - 30 and isinstance(result.subject, str)
