"""Authentication: bearer JWTs verified with joserfc against keys we chose.

``TokenVerifier.verify`` answers a :class:`VerifiedToken` or raises :class:`AuthFailure`
(an ``Unauthenticated``, code ``UNAUTHENTICATED``) whose ``reason`` is one of :data:`REASONS`.
"""

from gateway.auth.dev import MAX_TTL_SECONDS, mint_dev_token, parse_ttl
from gateway.auth.errors import REASONS, AuthFailure, Reason
from gateway.auth.verifier import (
    DEV_ALGORITHMS,
    DEV_AUDIENCE,
    DEV_ISSUER,
    MIN_DEV_SECRET_BYTES,
    OIDC_ALGORITHMS,
    TokenVerifier,
    VerifiedToken,
)

__all__ = [
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
]
