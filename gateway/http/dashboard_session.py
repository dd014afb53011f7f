"""The /dashboard browser session: a signed cookie, and the CSRF checks of its forms.

The cookie is signed and timestamped by ``itsdangerous`` (what Starlette's ``SessionMiddleware``
uses), with a salt of its own so that its key never equals the dev-token signing key. Starlette's
middleware itself is not used: it keeps one cookie per application, and the dashboard needs two
with different paths and SameSite policies (below). It holds who signed in (email, subject, role claim — never the token), a CSRF token and
authlib's OAuth state; it is HttpOnly, SameSite=Strict, path-scoped to /dashboard, Secure
over https, and expires with the token it came from (at most eight hours).

The OIDC sign-in keeps authlib's state (state, nonce, PKCE verifier) in a second signed cookie,
``spyne_dashboard_oidc``, scoped to ``/dashboard/callback`` (see :mod:`gateway.http.oidc_flow`,
which the workbench's sign-in shares).

A form POST must pass both checks: the request's Origin (or Referer) is this server, and its
``csrf`` field equals the session's.
"""

from __future__ import annotations

import hmac
import secrets
import time
from typing import Any
from urllib.parse import urlsplit

from itsdangerous import BadData, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

COOKIE = "spyne_dashboard"
PATH = "/dashboard"
MAX_AGE_SECONDS = 8 * 3600
OAUTH_COOKIE = "spyne_dashboard_oidc"
OAUTH_PATH = "/dashboard/callback"


class SessionCodec:
    """Signs a session dict into a cookie value and reads it back (``{}`` when forged or expired)."""

    def __init__(self, secret: bytes, salt: str = "spyne dashboard session v1") -> None:
        # A salt per use: a value signed for one cookie never reads as another's.
        self._serializer = URLSafeTimedSerializer(secret, salt=salt)

    def dumps(self, session: dict[str, Any]) -> str:
        return str(self._serializer.dumps(session))

    def loads(self, value: str | None, now: float | None = None) -> dict[str, Any]:
        if not value or len(value) > 4096:
            return {}
        try:
            session = self._serializer.loads(value, max_age=MAX_AGE_SECONDS)
        except BadData:  # a bad signature, an expired timestamp, a payload that is not JSON
            return {}
        if not isinstance(session, dict) or not _is_number(session.get("exp", 0)) or float(
                session.get("exp", 0)) < (now or time.time()):
            return {}
        return session


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def load(request: Request, codec: SessionCodec) -> dict[str, Any]:
    session = codec.loads(request.cookies.get(COOKIE))
    session.setdefault("csrf", secrets.token_urlsafe(24))
    session.setdefault("exp", int(time.time()) + MAX_AGE_SECONDS)
    return session


def save(response: Response, request: Request, codec: SessionCodec, session: dict[str, Any]) -> None:
    max_age = max(0, int(session["exp"] - time.time()))
    response.set_cookie(COOKIE, codec.dumps(session), max_age=max_age, path=PATH, httponly=True,
                        samesite="strict", secure=request.url.scheme == "https")


def clear(response: Response) -> None:
    response.delete_cookie(COOKIE, path=PATH, httponly=True, samesite="strict")


def same_origin(request: Request) -> bool:
    """The form was posted from a page of this server (Origin, else Referer, must say so)."""
    own = f"{request.url.scheme}://{request.url.netloc}"
    origin = request.headers.get("origin")
    if origin is not None:
        return origin == own
    referer = request.headers.get("referer")
    if referer:
        parts = urlsplit(referer)
        return f"{parts.scheme}://{parts.netloc}" == own
    return False


def csrf_ok(session: dict[str, Any], submitted: object) -> bool:
    expected = session.get("csrf")
    return isinstance(submitted, str) and isinstance(expected, str) and hmac.compare_digest(submitted, expected)
