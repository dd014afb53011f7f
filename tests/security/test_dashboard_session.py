"""The /dashboard session cookie (itsdangerous): forged, altered, foreign or stale cookies sign nobody in."""

from __future__ import annotations

import time

import pytest

from gateway.http.dashboard_session import SessionCodec

SECRET = b"the-dashboard-secret-0123456789abcdef-xyz"
SESSION = {"user": {"email": "ada@example.com"}, "csrf": "token", "exp": int(time.time()) + 3600}


def test_a_session_reads_back() -> None:
    codec = SessionCodec(SECRET)
    assert codec.loads(codec.dumps(SESSION)) == SESSION


def _flip(value: str, index: int) -> str:
    return value[:index] + ("A" if value[index] != "A" else "B") + value[index + 1:]


@pytest.mark.parametrize("forge", [
    lambda v: _flip(v, 5),  # the payload altered
    lambda v: _flip(v, len(v) - 3),  # the signature altered
    lambda v: SessionCodec(b"another-secret-0123456789abcdef-0123456").dumps(SESSION),
    lambda v: v.split(".")[0],  # the signature dropped
    lambda v: "",
    lambda v: "x" * 5000,
    lambda v: "eyJ1c2VyIjoiYWRhIn0.e30.c2ln",  # an unsigned look-alike
], ids=["payload", "signature", "foreign-key", "unsigned", "empty", "oversized", "look-alike"])
def test_a_forged_cookie_signs_nobody_in(forge: object) -> None:
    codec = SessionCodec(SECRET)
    assert codec.loads(forge(codec.dumps(SESSION))) == {}  # type: ignore[operator]


@pytest.mark.parametrize("exp", [int(time.time()) - 1, "never", None, True], ids=["past", "text", "null", "bool"])
def test_a_session_past_or_without_a_numeric_exp_is_over(exp: object) -> None:
    codec = SessionCodec(SECRET)
    assert codec.loads(codec.dumps({**SESSION, "exp": exp})) == {}

