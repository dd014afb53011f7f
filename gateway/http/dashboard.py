"""``/dashboard``: the admins' monitoring page, its sign-in and sign-out, and its data as JSON.

Who may look: ``Capability.VIEW_DASHBOARD``. A script sends ``Authorization: Bearer …``; a
person signs in once — through the configured OIDC provider (authlib's Starlette client), or in
dev mode by pasting a dev token into a form that is POSTed, never put in a URL — and then
carries the session cookie of :mod:`gateway.http.dashboard_session`.

    GET  /dashboard             the page (303 to the sign-in page without a session)
    GET  /dashboard/data.json   the same panels as JSON
    GET  /dashboard/signin      the sign-in page;  POST: a dev token (dev mode only)
    POST /dashboard/login       starts the OIDC flow;  GET /dashboard/callback ends it
    POST /dashboard/signout
    GET  /dashboard/static/{name}
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from gateway.domain import Capability
from gateway.errors import GatewayError, Unauthenticated
from gateway.graphql.context import Context
from gateway.http import dashboard_page as page
from gateway.http import dashboard_session as sessions
from gateway.http.oidc_flow import OidcClient, OidcFlow, OidcRefused
from gateway.records import Principal
from gateway.services.access import require
from gateway.services.container import Services

log = logging.getLogger("spyne.dashboard")
STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_FILES = {"dashboard.css": "text/css", "dashboard.js": "text/javascript"}
MAX_FORM_BYTES = 16_384

Authenticate = Callable[[str | None, str], Awaitable[Context]]


@dataclass(frozen=True)
class DashboardConfig:
    session_secret: bytes
    dev_sign_in: bool  # a pasted dev token is accepted (no OIDC issuer configured)
    oidc: OidcClient | None = None


def _request_id(request: Request) -> str:
    return str(request.scope.get("state", {}).get("request_id", ""))


class DashboardRoutes:
    def __init__(self, services: Services, authenticate: Authenticate, config: DashboardConfig) -> None:
        self.services = services
        self.authenticate = authenticate
        self.config = config
        self.codec = sessions.SessionCodec(config.session_secret)
        self.oidc = None if config.oidc is None else OidcFlow(
            config.oidc, self.codec, cookie=sessions.OAUTH_COOKIE, callback_path=sessions.OAUTH_PATH,
            callback_route="dashboard_callback")

    def routes(self) -> list[Route]:
        return [
            Route("/dashboard", self.dashboard, methods=["GET"]),
            Route("/dashboard/data.json", self.data, methods=["GET"]),
            Route("/dashboard/signin", self.signin_page, methods=["GET"]),
            Route("/dashboard/signin", self.signin, methods=["POST"]),
            Route("/dashboard/login", self.login, methods=["POST"]),
            Route("/dashboard/callback", self.callback, methods=["GET"], name="dashboard_callback"),
            Route("/dashboard/signout", self.signout, methods=["POST"]),
            Route("/dashboard/static/{name}", self.static, methods=["GET"]),
        ]

    # --- who is asking ---------------------------------------------------------------------

    async def _principal(self, request: Request) -> Principal | None:
        """The bearer header when there is one (scripts), else the session cookie (people)."""
        authorization = request.headers.get("authorization")
        if authorization is not None:
            return (await self.authenticate(authorization, _request_id(request))).require_principal()
        user = sessions.load(request, self.codec).get("user")
        if not isinstance(user, dict):
            return None
        # The role is looked up again on every request: a demoted admin loses the page at once.
        return await self.services.users.principal_for(
            str(user["email"]), str(user.get("sub", "")), user.get("role_claim"),
            request_id=_request_id(request))

    async def _snapshot_or_refusal(self, request: Request, as_json: bool) -> Any:
        try:
            principal = await self._principal(request)
            if principal is None:
                if as_json:
                    raise Unauthenticated("Send `Authorization: Bearer <token>` or sign in at /dashboard/signin.")
                return RedirectResponse("/dashboard/signin", status_code=303)
            require(principal, Capability.VIEW_DASHBOARD)
            days = request.query_params.get("days", "7")
            snapshot = await self.services.dashboard.snapshot(
                principal, window_days=int(days) if days.isdigit() else 7)
            return principal, snapshot
        except GatewayError as error:
            status = 401 if error.code == "UNAUTHENTICATED" else 403
            if as_json:
                return JSONResponse({"error": {"code": error.code, "message": error.message}}, status_code=status)
            return self._html(page.refusal(error.message), request, status=status)

    async def dashboard(self, request: Request) -> Response:
        outcome = await self._snapshot_or_refusal(request, as_json=False)
        if isinstance(outcome, Response):
            return outcome
        principal, snapshot = outcome
        session = sessions.load(request, self.codec)
        signed_in = "authorization" not in request.headers
        return self._html(page.dashboard(snapshot, principal.email, session["csrf"] if signed_in else None),
                          request, session=session if signed_in else None)

    async def data(self, request: Request) -> Response:
        outcome = await self._snapshot_or_refusal(request, as_json=True)
        if isinstance(outcome, Response):
            return outcome
        _, snapshot = outcome
        return Response(page.as_json(snapshot), media_type="application/json",
                        headers={"Cache-Control": "no-store"})

    # --- signing in and out ----------------------------------------------------------------

    async def signin_page(self, request: Request, message: str | None = None, status: int = 200) -> Response:
        session = sessions.load(request, self.codec)
        html = page.signin(session["csrf"], dev=self.config.dev_sign_in,
                           oidc=self.config.oidc.issuer if self.config.oidc else None, message=message)
        return self._html(html, request, session=session, status=status, form_targets=self._form_targets)

    @property
    def _form_targets(self) -> tuple[str, ...]:
        return () if self.config.oidc is None else (self.config.oidc.origin,)

    async def _checked_form(self, request: Request) -> tuple[dict[str, Any], dict[str, str]] | Response:
        session = sessions.load(request, self.codec)
        body = await request.body()
        if len(body) > MAX_FORM_BYTES:
            return await self.signin_page(request, "That form was too large.", 413)
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        if not sessions.same_origin(request) or not sessions.csrf_ok(session, form.get("csrf")):
            return await self.signin_page(request, "The form expired or came from another site; try again.", 403)
        return session, form

    async def signin(self, request: Request) -> Response:
        checked = await self._checked_form(request)
        if isinstance(checked, Response):
            return checked
        session, form = checked
        if not self.config.dev_sign_in:
            return await self.signin_page(request, "Sign in through your identity provider.", 403)
        token = form.get("token", "").strip().removeprefix("Bearer ").strip()
        return await self._start_session(request, session, f"Bearer {token}")

    async def login(self, request: Request) -> Response:
        checked = await self._checked_form(request)
        if isinstance(checked, Response):
            return checked
        session, _ = checked
        if self.oidc is None:
            return await self.signin_page(request, "No OIDC provider is configured.", 404)
        try:
            redirect = await self.oidc.start(request)
        except OidcRefused as refused:
            return await self.signin_page(request, refused.message, refused.status)
        return self._with_session(redirect, request, session)

    async def callback(self, request: Request) -> Response:
        if self.oidc is None:
            return await self.signin_page(request, "No OIDC provider is configured.", 404)
        try:
            access_token = await self.oidc.finish(request)
        except OidcRefused as refused:
            response = await self.signin_page(request, refused.message, refused.status)
            self.oidc.clear(response)
            return response
        # The same check as every API call: the access token must verify against our issuer.
        response = await self._start_session(request, sessions.load(request, self.codec),
                                             f"Bearer {access_token}", after_redirect=True)
        self.oidc.clear(response)
        return response

    async def _start_session(self, request: Request, session: dict[str, Any], authorization: str,
                             after_redirect: bool = False) -> Response:
        try:
            verified = await self.services.verifier.verify(authorization)
            principal = await self.services.users.principal_for(
                verified.email, verified.subject, verified.role_claim, request_id=_request_id(request))
            require(principal, Capability.VIEW_DASHBOARD)
        except GatewayError as error:
            return await self.signin_page(request, error.message, 401 if error.code == "UNAUTHENTICATED" else 403)
        expires = verified.claims.get("exp")
        limit = int(time.time()) + sessions.MAX_AGE_SECONDS
        fresh = {"csrf": sessions.secrets.token_urlsafe(24),  # a new session gets a new CSRF token
                 "exp": min(int(expires), limit) if isinstance(expires, int | float) else limit,
                 "user": {"email": principal.email, "sub": verified.subject, "role_claim": verified.role_claim}}
        log.info("dashboard sign-in", extra={"actor": principal.email})
        if after_redirect:  # see page.continue_to: the cookie must arrive on a same-site navigation
            return self._html(page.continue_to("/dashboard"), request, session=fresh)
        return self._with_session(RedirectResponse("/dashboard", status_code=303), request, fresh)

    async def signout(self, request: Request) -> Response:
        checked = await self._checked_form(request)
        if isinstance(checked, Response):
            return checked
        response = RedirectResponse("/dashboard/signin", status_code=303)
        sessions.clear(response)
        return response

    # --- plumbing ----------------------------------------------------------------------------

    async def static(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name not in STATIC_FILES:
            return Response("Not found", status_code=404)
        return FileResponse(STATIC_DIR / name, media_type=STATIC_FILES[name],
                            headers={"Cache-Control": "public, max-age=300"})

    def _with_session(self, response: Response, request: Request, session: dict[str, Any]) -> Response:
        sessions.save(response, request, self.codec, session)
        return response

    def _html(self, html: str, request: Request, *, session: dict[str, Any] | None = None,
              status: int = 200, form_targets: tuple[str, ...] = ()) -> Response:
        response = HTMLResponse(html, status_code=status, headers=page.security_headers(form_targets))
        if session is not None:
            self._with_session(response, request, session)
        return response
