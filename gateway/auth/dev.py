"""Dev tokens (``spyne token``): HS256, signed with the local dev key, for machines without an IdP.

The CLI must refuse to mint when :attr:`TokenVerifier.oidc_enabled` is true: such a gateway
would refuse the token anyway.
"""

from __future__ import annotations

import re
import secrets
import time
from typing import Final

from joserfc import jwt

from gateway.auth.verifier import DEV_AUDIENCE, DEV_ISSUER, dev_key
from gateway.domain import Role

_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_TTL: Final = re.compile(r"([0-9]{1,9})([smhdw]?)")
#: A dev token lives at most a year; anything longer is a typo or a bad idea.
MAX_TTL_SECONDS: Final = 366 * 86400


def parse_ttl(text: str) -> int:
    """Seconds in a lifetime written ``3600``, ``45s``, ``30m``, ``1h``, ``7d`` or ``2w``."""
    match = _TTL.fullmatch(text.strip().lower())
    if match is None:
        raise ValueError(
            f"invalid TTL {text!r}: write a whole number of seconds or of s, m, h, d or w (e.g. 3600, 30m, 1h, 7d)"
        )
    seconds = int(match.group(1)) * _UNITS[match.group(2) or "s"]
    if not 0 < seconds <= MAX_TTL_SECONDS:
        raise ValueError(f"invalid TTL {text!r}: it must be more than 0 and at most 366d")
    return seconds


def mint_dev_token(
    secret: bytes,
    email: str,
    role: str,
    ttl_seconds: int,
    *,
    now: float | None = None,
    role_claim: str = "spyne_role",
) -> str:
    """An HS256 token for ``email`` carrying ``role`` in ``role_claim``, valid ``ttl_seconds``."""
    if not email or not email.strip():
        raise ValueError("a dev token needs an email")
    try:
        role_name = Role(role.upper()).value
    except ValueError:
        raise ValueError(f"unknown role {role!r}: use one of {', '.join(r.value for r in Role)}") from None
    if not 0 < ttl_seconds <= MAX_TTL_SECONDS:
        raise ValueError("ttl_seconds must be more than 0 and at most 366 days")
    issued = int(time.time() if now is None else now)
    claims = {
        "iss": DEV_ISSUER,
        "aud": DEV_AUDIENCE,
        "sub": email.strip(),
        "email": email.strip(),
        role_claim: role_name,
        "iat": issued,
        "nbf": issued,
        "exp": issued + ttl_seconds,
        "jti": secrets.token_urlsafe(12),
    }
    return jwt.encode({"alg": "HS256"}, claims, dev_key(secret), algorithms=["HS256"])
