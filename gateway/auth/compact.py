"""The checks made on a token before any key is chosen or any signature is computed.

They are cheap, bounded and purely syntactic: take the token out of the header value, refuse it
when too large, split the compact JWS, read its protected header, and refuse the header
parameters that would make the token choose its own key (``jwk``, ``jku``, ``x5u``, ``x5c``) or
oblige us to understand extensions (``crit``).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any, Final

from gateway.auth.errors import AuthFailure

# Parameters by which a token would tell us where its key is: trusting any of them lets the
# attacker sign with a key of their own (CVE-2018-0114 and its cousins).
FORBIDDEN_HEADER_PARAMS: Final = frozenset({"jwk", "jku", "x5u", "x5c"})

_SEGMENT = re.compile(r"[A-Za-z0-9_-]*")
_SCHEME = "bearer"


def extract_token(value: str | None, max_token_bytes: int) -> str:
    """The compact token inside ``Authorization: Bearer <token>`` (or given bare)."""
    if value is None or not value.strip():
        raise AuthFailure("missing")
    # Bound the work before touching the string further: a megabyte header is refused as is.
    if len(value) > max_token_bytes + len(_SCHEME) + 8:
        raise AuthFailure("oversized")
    parts = value.strip().split()
    if len(parts) == 2 and parts[0].lower() == _SCHEME:
        token = parts[1]
    elif len(parts) == 1 and parts[0].lower() != _SCHEME:
        token = parts[0]
    elif len(parts) == 1:
        raise AuthFailure("missing")
    else:
        raise AuthFailure("malformed")
    if len(token.encode("utf-8", "surrogatepass")) > max_token_bytes:
        raise AuthFailure("oversized")
    return token


def read_header(token: str) -> dict[str, Any]:
    """The protected header of a compact JWS, refused when it is not one we may act on."""
    segments = token.split(".")
    if len(segments) != 3 or not all(_SEGMENT.fullmatch(s) for s in segments):
        raise AuthFailure("malformed")  # five segments would be a JWE: not accepted either
    if not segments[0] or not segments[1]:
        raise AuthFailure("malformed")
    try:
        header = json.loads(_b64url_decode(segments[0]))
    # JSONDecodeError and UnicodeDecodeError are ValueErrors; a few kilobytes of "[[[[" are a
    # RecursionError, which must not escape as an internal error.
    except (ValueError, binascii.Error, RecursionError) as error:
        raise AuthFailure("malformed") from error
    if not isinstance(header, dict):
        raise AuthFailure("malformed")
    if "crit" in header:
        raise AuthFailure("crit")
    if FORBIDDEN_HEADER_PARAMS.intersection(header):
        raise AuthFailure("forbidden_header")
    if not isinstance(header.get("alg"), str):
        raise AuthFailure("malformed")
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise AuthFailure("malformed")
    return header


def _b64url_decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
