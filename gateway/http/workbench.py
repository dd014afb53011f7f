"""``/workbench``: the reference IDE page, built only on the public GraphQL API.

The page holds no data and the server keeps no session for it. Its script keeps a bearer token in
the tab's memory and sessionStorage and sends it as ``Authorization: Bearer …`` on every
``POST /graphql`` — the same requests any client makes, so whatever the workbench can do, the API
can. The token comes one of two ways:

- pasted into the page (a dev token, or an access token of the configured OIDC issuer);
- through the OIDC provider, like ``/dashboard`` (:mod:`gateway.http.oidc_flow`, authorization
  code + PKCE): ``/workbench/login`` sends the browser to the provider, whose answer comes back to
  ``/workbench/callback``; the gateway exchanges the code and answers with the page itself, the
  access token inside it as JSON. The page's script moves the token to sessionStorage, removes it
  from the document and replaces the address with ``/workbench``. The callback's URL holds only
  the one-time code, which is spent by then.

Either way the token is never put in a URL, a cookie or a submitted form, so no access log or
browser history sees it (the callback's answer is ``Cache-Control: no-store``).

    GET /workbench                 the page (an import map of the CodeMirror modules, then our own)
    GET /workbench/login           to the OIDC provider (when SPYNE_OIDC_CLIENT_ID is set)
    GET /workbench/callback        the provider's answer: the page, with the access token handed over
    GET /workbench/static/{name}   the page's own scripts and stylesheet (committed)
    GET /workbench/vendor/{name}   CodeMirror's ES modules, installed from npm at set-up time
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Route

from gateway.http import workbench_assets as assets
from gateway.http.dashboard_session import SessionCodec
from gateway.http.oidc_flow import OidcClient, OidcFlow, OidcRefused
from gateway.http.workbench_page import SignIn, render_page

OWN_DIR = Path(__file__).resolve().parent / "static" / "workbench"
_OWN_NAME = re.compile(r"^[a-z][a-z0-9_-]*\.(js|css)$")
_MEDIA = {".js": "text/javascript", ".css": "text/css", ".txt": "text/plain"}
OIDC_COOKIE = "spyne_workbench_oidc"
CALLBACK_PATH = "/workbench/callback"
LOGIN_PATH = "/workbench/login"


@dataclass(frozen=True)
class WorkbenchConfig:
    secret: bytes  # signs the OIDC flow's cookie
    dev_tokens: bool  # dev tokens verify (no OIDC issuer configured)
    oidc: OidcClient | None = None


def _file(directory: Path, name: str, allowed: bool) -> Response:
    path = directory / name
    if not allowed or not path.is_file():
        return Response("Not found", status_code=404, media_type="text/plain")
    # A versioned URL (?v=content hash) changes whenever the file does, so it may be cached.
    return FileResponse(path, media_type=_MEDIA.get(path.suffix, "application/octet-stream"),
                        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"})


async def own_static(request: Request) -> Response:
    name = str(request.path_params["name"])
    return _file(OWN_DIR, name, bool(_OWN_NAME.match(name)))


async def vendor(request: Request) -> Response:
    name = str(request.path_params["name"])
    return _file(assets.ASSETS_DIR, name, name in assets.MODULES.values())


class WorkbenchRoutes:
    def __init__(self, config: WorkbenchConfig) -> None:
        self.config = config
        self.oidc = None if config.oidc is None else OidcFlow(
            config.oidc, SessionCodec(config.secret, salt="spyne workbench oidc v1"), cookie=OIDC_COOKIE,
            callback_path=CALLBACK_PATH, callback_route="workbench_callback")

    def routes(self) -> list[Route]:
        return [
            Route("/workbench", self.page, methods=["GET"]),
            Route(LOGIN_PATH, self.login, methods=["GET"]),
            Route(CALLBACK_PATH, self.callback, methods=["GET"], name="workbench_callback"),
            Route("/workbench/static/{name}", own_static, methods=["GET"]),
            Route("/workbench/vendor/{name}", vendor, methods=["GET"]),
        ]

    def _page(self, *, handoff: str | None = None, error: OidcRefused | None = None) -> Response:
        nonce = secrets.token_urlsafe(18)
        sign_in = SignIn(dev_tokens=self.config.dev_tokens,
                         issuer=self.config.oidc.issuer if self.config.oidc else None, login_path=LOGIN_PATH,
                         error=error.message if error else None)
        html, headers = render_page(nonce, assets.asset_versions(assets.ASSETS_DIR), own_dir=OWN_DIR,
                                    sign_in=sign_in, handoff=handoff)
        return HTMLResponse(html, status_code=error.status if error else 200, headers=headers)

    async def page(self, request: Request) -> Response:
        return self._page()

    async def login(self, request: Request) -> Response:
        # A GET may start a flow: what it sets up is bound to this browser's cookie, so another
        # site starting it only signs the person in as themselves, in their own tab.
        if self.oidc is None:
            return self._page(error=OidcRefused("No OIDC provider is configured; paste a token.", 404))
        try:
            return await self.oidc.start(request)
        except OidcRefused as refused:
            return self._page(error=refused)

    async def callback(self, request: Request) -> Response:
        if self.oidc is None:
            return self._page(error=OidcRefused("No OIDC provider is configured; paste a token.", 404))
        try:
            access_token = await self.oidc.finish(request)
        except OidcRefused as refused:
            response = self._page(error=refused)
        else:
            # The page itself verifies it at once, like any token: its first call is `me`.
            response = self._page(handoff=access_token)
        self.oidc.clear(response)
        return response
