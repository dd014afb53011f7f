"""``/workbench``: the reference IDE page, built only on the public GraphQL API.

The page is static: it holds no data and needs no session. A person signs in on the page by
pasting a bearer token (a dev token, or an access token of the configured OIDC issuer); the
page's script keeps it in the tab's memory and sessionStorage and sends it as
``Authorization: Bearer …`` on every ``POST /graphql`` — the same requests any client makes, so
whatever the workbench can do, the API can. The token is never put in a URL, a cookie or a form
field that is submitted, so it reaches no access log.

    GET /workbench                 the page (an import map of the CodeMirror modules, then our own)
    GET /workbench/static/{name}   the page's own scripts and stylesheet (committed)
    GET /workbench/vendor/{name}   CodeMirror's ES modules, installed from npm at set-up time
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Route

from gateway.http import workbench_assets as assets
from gateway.http.workbench_page import render_page

OWN_DIR = Path(__file__).resolve().parent / "static" / "workbench"
_OWN_NAME = re.compile(r"^[a-z][a-z0-9_-]*\.(js|css)$")
_MEDIA = {".js": "text/javascript", ".css": "text/css", ".txt": "text/plain"}


def _file(directory: Path, name: str, allowed: bool) -> Response:
    path = directory / name
    if not allowed or not path.is_file():
        return Response("Not found", status_code=404, media_type="text/plain")
    # A versioned URL (?v=content hash) changes whenever the file does, so it may be cached.
    return FileResponse(path, media_type=_MEDIA.get(path.suffix, "application/octet-stream"),
                        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"})


async def page(request: Request) -> Response:
    nonce = secrets.token_urlsafe(18)
    html, headers = render_page(nonce, assets.asset_versions(assets.ASSETS_DIR), own_dir=OWN_DIR)
    return HTMLResponse(html, headers=headers)


async def own_static(request: Request) -> Response:
    name = str(request.path_params["name"])
    return _file(OWN_DIR, name, bool(_OWN_NAME.match(name)))


async def vendor(request: Request) -> Response:
    name = str(request.path_params["name"])
    return _file(assets.ASSETS_DIR, name, name in assets.MODULES.values())


def workbench_routes() -> list[Route]:
    return [
        Route("/workbench", page, methods=["GET"]),
        Route("/workbench/static/{name}", own_static, methods=["GET"]),
        Route("/workbench/vendor/{name}", vendor, methods=["GET"]),
    ]
