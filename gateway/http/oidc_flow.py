"""The OIDC sign-in (authorization code + PKCE) that ``/dashboard`` and ``/workbench`` both offer.

authlib's Starlette client speaks the protocol: discovery, the redirect to the provider with
state, nonce and an S256 PKCE challenge, the code exchange and the id_token's checks. Between the
two legs it keeps state, nonce and verifier in ``request.scope["session"]``; this module carries
that dict in a signed cookie of each page's own (HttpOnly; SameSite=Lax, because the provider's
redirect back is a cross-site navigation that never carries a Strict cookie; scoped to the page's
callback path; ten minutes; cleared by the callback). A callback whose ``state`` does not match
that cookie is refused, so nobody can finish a sign-in another browser started.

What each page does with the access token that comes back is the page's business: the dashboard
turns it into its session cookie, the workbench hands it to the page's script.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from gateway.http.dashboard_session import SessionCodec

log = logging.getLogger("spyne.oidc")
FLOW_MAX_AGE_SECONDS = 600


@dataclass(frozen=True)
class OidcClient:
    issuer: str
    client_id: str
    client_secret: str | None
    scope: str = "openid email profile"

    @property
    def origin(self) -> str:
        """Where the browser is sent to sign in (a form that starts the flow must be allowed there)."""
        parts = urlsplit(self.issuer)
        return f"{parts.scheme}://{parts.netloc}"


class OidcRefused(Exception):
    """The flow could not start or finish; ``message`` is for the person, never a provider's detail."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class OidcFlow:
    """One page's sign-in through the provider: ``start`` sends the browser there, ``finish`` takes
    the answer at ``callback_route`` and returns the access token."""

    def __init__(self, client: OidcClient, codec: SessionCodec, *, cookie: str, callback_path: str,
                 callback_route: str) -> None:
        from authlib.integrations.starlette_client import OAuth

        self.client = client
        self.codec = codec
        self.cookie = cookie
        self.callback_path = callback_path
        self.callback_route = callback_route
        self.oauth: Any = OAuth()
        self.oauth.register(
            "spyne", client_id=client.client_id, client_secret=client.client_secret,
            server_metadata_url=client.issuer.rstrip("/") + "/.well-known/openid-configuration",
            client_kwargs={"scope": client.scope, "code_challenge_method": "S256"})

    async def start(self, request: Request) -> Response:
        """The redirect to the provider's /authorize, carrying this flow's cookie."""
        flow: dict[str, Any] = {"exp": int(time.time()) + FLOW_MAX_AGE_SECONDS}
        request.scope["session"] = flow  # authlib keeps its state, nonce and PKCE verifier there
        try:
            redirect: Response = await self.oauth.spyne.authorize_redirect(
                request, str(request.url_for(self.callback_route)))
        except Exception as exc:  # the provider's discovery document is unreachable
            log.warning("OIDC sign-in could not start: %s", type(exc).__name__)
            raise OidcRefused("The identity provider cannot be reached; try again.", 502) from None
        redirect.set_cookie(self.cookie, self.codec.dumps(flow), max_age=FLOW_MAX_AGE_SECONDS,
                            path=self.callback_path, httponly=True, samesite="lax",
                            secure=request.url.scheme == "https")
        return redirect

    async def finish(self, request: Request) -> str:
        """The access token of the provider's answer (state, nonce, PKCE and id_token checked)."""
        request.scope["session"] = self.codec.loads(request.cookies.get(self.cookie))
        try:
            token = await self.oauth.spyne.authorize_access_token(request)
        except Exception as exc:  # authlib raises OAuthError (state, nonce, id_token) and transport errors alike
            log.warning("OIDC callback refused: %s", type(exc).__name__)
            raise OidcRefused("The identity provider's answer was refused; try again.", 400) from None
        access = token.get("access_token") if isinstance(token, dict) else None
        if not isinstance(access, str) or not access:
            log.warning("OIDC callback refused: no access token")
            raise OidcRefused("The identity provider sent no access token.", 400)
        return access

    def clear(self, response: Response) -> None:
        response.delete_cookie(self.cookie, path=self.callback_path, httponly=True, samesite="lax")
