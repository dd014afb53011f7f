"""Why a bearer token was refused: one bounded reason per failure, for metrics and logs.

    Unauthenticated (gateway.errors)   UNAUTHENTICATED
    └── AuthFailure                    .reason in REASONS

The reason never reaches the client as such (the message does, and it says what to do);
it is a closed set so that a metric labelled by it cannot grow without bound.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final, Literal, get_args

from gateway.errors import Unauthenticated

Reason = Literal[
    "missing",
    "malformed",
    "oversized",
    "expired",
    "not_yet_valid",
    "bad_issuer",
    "bad_audience",
    "bad_signature",
    "bad_algorithm",
    "unknown_kid",
    "crit",
    "forbidden_header",
    "jwks_unavailable",
    "too_long_lived",
]

#: Every reason an :class:`AuthFailure` can carry, in a stable order (metric label values).
REASONS: Final[tuple[Reason, ...]] = get_args(Reason)

# What the caller reads. No message names a key, a claim value or a secret.
_MESSAGES: Final = MappingProxyType(
    {
        "missing": "Authentication required: send 'Authorization: Bearer <token>'.",
        "malformed": "The bearer token is not a well-formed signed JWT; obtain a new token.",
        "oversized": "The bearer token is too large; obtain a new token from your identity provider.",
        "expired": "The token has expired; obtain a new one (for dev tokens: .venv/bin/spyne token).",
        "not_yet_valid": "The token is not valid yet; check the clock of the machine that issued it.",
        "bad_issuer": "The token was issued by an issuer this gateway does not trust.",
        "bad_audience": "The token was issued for another audience than this gateway.",
        "bad_signature": "The token signature does not verify; obtain a new token.",
        "bad_algorithm": "The token is signed with an algorithm this gateway does not accept.",
        "unknown_kid": "The token is signed with a key the identity provider does not publish.",
        "crit": "The token carries critical header parameters this gateway does not support.",
        "forbidden_header": "The token names its own key or key URL (jwk, jku, x5u, x5c); such tokens are refused.",
        "jwks_unavailable": "The identity provider's signing keys could not be fetched; try again shortly.",
        "too_long_lived": "The token lives longer than this gateway accepts (SPYNE_TOKEN_MAX_LIFETIME_S); obtain a "
                          "shorter-lived token.",
    }
)


class AuthFailure(Unauthenticated):
    """A refused bearer token; ``reason`` is one of :data:`REASONS`."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(_MESSAGES[reason])
        self.reason: Reason = reason

    def __repr__(self) -> str:
        return f"AuthFailure({self.reason!r})"
