"""The verified-token cache: hits skip the signature, never the time claims; failures are not kept."""

from __future__ import annotations

import pytest
from joserfc import jwt

from gateway.auth import AuthFailure, TokenVerifier, mint_dev_token
from gateway.auth.verifier import DEV_AUDIENCE, DEV_ISSUER, dev_key

SECRET = b"dev-secret-for-tests-0123456789abcdef"
OTHER_SECRET = b"another-secret-for-tests-0123456789abcdef"
T0 = 1_800_000_000.0
LEEWAY = 30


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def verifier(clock: Clock, **options: object) -> TokenVerifier:
    return TokenVerifier(dev_secret=SECRET, clock=clock, leeway_seconds=LEEWAY, **options)  # type: ignore[arg-type]


def cached(v: TokenVerifier) -> int:
    return len(v._cache)


async def reason(v: TokenVerifier, token: str) -> str:
    with pytest.raises(AuthFailure) as failure:
        await v.verify(token)
    return failure.value.reason


async def test_second_verification_is_a_hit_returning_the_same_identity() -> None:
    clock = Clock()
    v = verifier(clock)
    token = mint_dev_token(SECRET, "ana@example.com", "ANALYST", 3600, now=T0)
    first = await v.verify(f"Bearer {token}")
    assert cached(v) == 1
    second = await v.verify(f"bearer  {token}")  # the same token under another spelling of the scheme
    assert second is first
    assert cached(v) == 1


async def test_a_cached_token_fails_as_expired_exactly_when_it_would_uncached() -> None:
    clock = Clock()
    v = verifier(clock)
    token = mint_dev_token(SECRET, "a@example.com", "VIEWER", 60, now=T0)  # exp = T0 + 60
    await v.verify(token)
    # Still inside the leeway: accepted from the cache, as it would be without one.
    clock.now = T0 + 60 + LEEWAY - 1
    assert (await v.verify(token)).email == "a@example.com"
    assert (await verifier(clock).verify(token)).email == "a@example.com"
    clock.now = T0 + 60 + LEEWAY
    assert await reason(v, token) == "expired"
    assert await reason(verifier(clock), token) == "expired"
    assert cached(v) == 0


async def test_a_hit_within_the_second_its_claims_last_passed_ends_with_that_second() -> None:
    clock = Clock()
    v = verifier(clock)
    token = mint_dev_token(SECRET, "a@example.com", "VIEWER", 60, now=T0)  # exp = T0 + 60
    await v.verify(token)
    clock.now = T0 + 60 + LEEWAY - 0.9  # the last whole second in which it is valid
    assert (await v.verify(token)).email == "a@example.com"
    clock.now = T0 + 60 + LEEWAY - 0.01  # the same second: the same outcome
    assert (await v.verify(token)).email == "a@example.com"
    clock.now = T0 + 60 + LEEWAY  # the next one: checked again, and expired
    assert await reason(v, token) == "expired"
    clock.now = T0 + 60 + LEEWAY - 0.5  # a clock moved back is no shortcut either
    assert (await v.verify(token)).email == "a@example.com"


async def test_entries_end_after_the_cache_lifetime_and_are_verified_afresh() -> None:
    clock = Clock()
    v = verifier(clock, cache_seconds=300)
    token = mint_dev_token(SECRET, "a@example.com", "VIEWER", 3600, now=T0)
    first = await v.verify(token)
    clock.now = T0 + 299
    assert await v.verify(token) is first
    clock.now = T0 + 300
    again = await v.verify(token)
    assert again is not first and again == first


async def test_a_clock_moved_back_is_checked_as_uncached() -> None:
    clock = Clock()
    v = verifier(clock)
    not_before = int(T0) + 100
    token = jwt.encode({"alg": "HS256"}, {"iss": DEV_ISSUER, "aud": DEV_AUDIENCE, "sub": "a@example.com",
                                          "nbf": not_before, "exp": not_before + 3600}, dev_key(SECRET))
    clock.now = T0 + 200
    await v.verify(token)
    clock.now = T0  # before nbf by more than the leeway
    assert await reason(v, token) == "not_yet_valid"


async def test_failures_are_never_cached() -> None:
    clock = Clock()
    v = verifier(clock)
    forged = mint_dev_token(OTHER_SECRET, "a@example.com", "ADMIN", 3600, now=T0)
    assert await reason(v, forged) == "bad_signature"
    assert await reason(v, forged) == "bad_signature"
    expired = mint_dev_token(SECRET, "a@example.com", "VIEWER", 60, now=T0 - 3600)
    assert await reason(v, expired) == "expired"
    assert cached(v) == 0


async def test_distinct_tokens_are_distinct_entries() -> None:
    clock = Clock()
    v = verifier(clock)
    ana = mint_dev_token(SECRET, "ana@example.com", "ANALYST", 3600, now=T0)
    bob = mint_dev_token(SECRET, "bob@example.com", "ADMIN", 3600, now=T0)
    assert (await v.verify(ana)).email == "ana@example.com"
    assert (await v.verify(bob)).email == "bob@example.com"
    assert (await v.verify(ana)).role_claim == "ANALYST"
    assert (await v.verify(bob)).role_claim == "ADMIN"
    assert cached(v) == 2
    # A token differing in one signature character is another key, and fails on its own merits.
    head, _, signature = ana.rpartition(".")
    tampered = f"{head}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    assert await reason(v, tampered) in ("bad_signature", "malformed")


async def test_the_cache_is_bounded_least_recently_used_first() -> None:
    clock = Clock()
    v = verifier(clock, cache_size=3)
    tokens = [mint_dev_token(SECRET, f"u{i}@example.com", "VIEWER", 3600, now=T0) for i in range(5)]
    first = await v.verify(tokens[0])
    for token in tokens[1:3]:
        await v.verify(token)
    assert await v.verify(tokens[0]) is first  # now the most recently used
    for token in tokens[3:]:
        await v.verify(token)
    assert cached(v) == 3
    assert await v.verify(tokens[0]) is first  # survived: tokens 1 and 2 were evicted


async def test_a_zero_sized_cache_keeps_nothing() -> None:
    clock = Clock()
    v = verifier(clock, cache_size=0)
    token = mint_dev_token(SECRET, "a@example.com", "VIEWER", 3600, now=T0)
    first = await v.verify(token)
    assert await v.verify(token) is not first
    assert cached(v) == 0


async def test_the_cache_holds_digests_not_tokens() -> None:
    clock = Clock()
    v = verifier(clock)
    token = mint_dev_token(SECRET, "a@example.com", "VIEWER", 3600, now=T0)
    await v.verify(token)
    assert all(isinstance(key, bytes) and len(key) == 32 for key in v._cache._entries)
    assert token.encode() not in v._cache._entries
