"""The /dashboard browser session: a signed cookie, and the CSRF checks of its forms.

``itsdangerous`` (what Starlette's ``SessionMiddleware`` needs) is not a dependency, so the
cookie is signed here with the standard library: ``base64url(json) "." base64url(HMAC-SHA256)``.
It holds who signed in (email, subject, role claim — never the token), a CSRF token and
authlib's OAuth state; it is HttpOnly, SameSite=Strict, path-scoped to /dashboard, Secure
over https, and expires with the token it came from (at most eight hours).

The OIDC sign-in keeps authlib's state (state, nonce, PKCE verifier) in a second signed cookie,
``spyne_dashboard_oidc``: SameSite=Lax, because the identity provider's redirect back to
``/dashboard/callback`` is a cross-site navigation that never carries a Strict cookie; it is
scoped to that path, lives ten minutes, and is cleared by the callback.

A form POST must pass both checks: the request's Origin (or Referer) is this server, and its
``csrf`` field equals the session's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

COOKIE = "spyne_dashboard"
PATH = "/dashboard"
MAX_AGE_SECONDS = 8 * 3600
OAUTH_COOKIE = "spyne_dashboard_oidc"
OAUTH_PATH = "/dashboard/callback"
OAUTH_MAX_AGE_SECONDS = 600


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionCodec:
    def __init__(self, secret: bytes) -> None:
        # A key of its own, derived so that it never equals the dev-token signing key.
        self._key = hmac.new(secret, b"spyne dashboard session v1", hashlib.sha256).digest()

    def dumps(self, session: dict[str, Any]) -> str:
        body = _b64(json.dumps(session, separators=(",", ":"), sort_keys=True).encode())
        return f"{body}.{_b64(hmac.new(self._key, body.encode(), hashlib.sha256).digest())}"

    def loads(self, value: str | None, now: float | None = None) -> dict[str, Any]:
        if not value or value.count(".") != 1 or len(value) > 4096:
            return {}
        body, signature = value.split(".")
        expected = _b64(hmac.new(self._key, body.encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(signature, expected):
            return {}
        try:
            session = json.loads(_unb64(body))
        except ValueError:
            return {}
        if not isinstance(session, dict) or float(session.get("exp", 0)) < (now or time.time()):
            return {}
        return session


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


def new_oauth_flow() -> dict[str, Any]:
    return {"exp": int(time.time()) + OAUTH_MAX_AGE_SECONDS}


def load_oauth(request: Request, codec: SessionCodec) -> dict[str, Any]:
    return codec.loads(request.cookies.get(OAUTH_COOKIE))


def save_oauth(response: Response, request: Request, codec: SessionCodec, flow: dict[str, Any]) -> None:
    response.set_cookie(OAUTH_COOKIE, codec.dumps(flow), max_age=OAUTH_MAX_AGE_SECONDS, path=OAUTH_PATH,
                        httponly=True, samesite="lax", secure=request.url.scheme == "https")


def clear_oauth(response: Response) -> None:
    response.delete_cookie(OAUTH_COOKIE, path=OAUTH_PATH, httponly=True, samesite="lax")


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
