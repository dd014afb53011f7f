"""Offline GraphiQL: the real npm install, the page, the static files, and a real headless browser."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import strawberry
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.asgi import GraphQL

from gateway.http.graphiql import (
    INSTALL_COMMAND,
    graphiql_mount,
    graphiql_static_app,
    render_graphiql_page,
)
from gateway.http.graphiql_assets import MANIFEST, PAGE_SCRIPTS, PAGE_STYLES, STATIC_PREFIX, check

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(__file__).resolve().parent / "_artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_npm = pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed: the assets come from npm")


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway.http.graphiql_assets", *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False,
    )


@pytest.fixture(scope="module")
def assets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed: the assets come from npm")
    dest = tmp_path_factory.mktemp("graphiql") / "graphiql"
    done = _cli("install", "--dest", str(dest))
    assert done.returncode == 0, done.stderr
    assert "GraphiQL assets installed" in done.stdout
    return dest


def _referenced(page: str) -> list[str]:
    return re.findall(r'<(?:script src|link rel="stylesheet" href)="([^"]+)"', page)


@needs_npm
def test_a_second_install_does_nothing_and_check_passes(assets: Path) -> None:
    again = _cli("install", "--dest", str(assets))
    assert again.returncode == 0, again.stderr
    assert "already installed" in again.stdout
    checked = _cli("check", "--dest", str(assets))
    assert checked.returncode == 0, checked.stderr
    assert check(assets) == []


@needs_npm
def test_check_notices_a_changed_file_and_install_repairs_it(assets: Path, tmp_path: Path) -> None:
    copy = tmp_path / "graphiql"
    shutil.copytree(assets, copy)
    (copy / "graphiql.min.js").write_text("tampered")
    assert any("changed after install" in p for p in check(copy))
    checked = _cli("check", "--dest", str(copy))
    assert checked.returncode == 1
    assert INSTALL_COMMAND in checked.stderr
    repaired = _cli("install", "--dest", str(copy))
    assert repaired.returncode == 0, repaired.stderr
    assert check(copy) == []


def test_install_without_npm_exits_non_zero_with_a_clear_message(tmp_path: Path) -> None:
    empty_path = tmp_path / "bin"
    empty_path.mkdir()
    done = _cli("install", "--dest", str(tmp_path / "graphiql"), env={**os.environ, "PATH": str(empty_path)})
    assert done.returncode == 2
    assert "npm was not found" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "graphiql").exists()


def test_check_of_an_empty_directory_fails(tmp_path: Path) -> None:
    assert check(tmp_path) == [f"no GraphiQL assets in {tmp_path} (no readable {MANIFEST})"]
    assert _cli("check", "--dest", str(tmp_path)).returncode == 1


@needs_npm
def test_every_asset_the_page_references_exists_on_disk(assets: Path) -> None:
    page = render_graphiql_page(assets_dir=assets)
    referenced = _referenced(page)
    assert len(referenced) == len(PAGE_SCRIPTS) + len(PAGE_STYLES)
    for url in referenced:
        assert url.startswith(f"{STATIC_PREFIX}/")
        name = url.removeprefix(f"{STATIC_PREFIX}/").split("?")[0]
        assert (assets / name).is_file(), url


@needs_npm
def test_the_page_loads_nothing_from_outside(assets: Path) -> None:
    page = render_graphiql_page(assets_dir=assets)
    assert not re.search(r'(src|href)="(https?:)?//', page)


@needs_npm
def test_a_path_prefix_and_endpoints_are_honoured_and_escaped(assets: Path) -> None:
    page = render_graphiql_page(
        "/api/graphql</script><b>", "wss://example.test/ws", static_prefix="/api/ide/", assets_dir=assets
    )
    assert all(url.startswith("/api/ide/") and "//" not in url for url in _referenced(page))
    assert "</script><b>" not in page
    assert "wss://example.test/ws" in page


@needs_npm
def test_the_headers_editor_is_on_and_persisted(assets: Path) -> None:
    page = render_graphiql_page(assets_dir=assets, default_headers={"Authorization": "Bearer abc"})
    assert "isHeadersEditorEnabled: true" in page
    assert "shouldPersistHeaders: true" in page
    assert "Bearer abc" in page


def test_without_assets_the_page_says_how_to_install_them(tmp_path: Path) -> None:
    page = render_graphiql_page(assets_dir=tmp_path)
    assert "GraphiQL is not installed" in page
    assert INSTALL_COMMAND in page
    assert "<script" not in page


def _client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test")


async def test_the_static_app_answers_404_while_nothing_is_installed(tmp_path: Path) -> None:
    app = Starlette(routes=[Mount(STATIC_PREFIX, app=graphiql_static_app(tmp_path / "missing"))])
    async with _client(app) as client:
        assert (await client.get(f"{STATIC_PREFIX}/graphiql.min.js")).status_code == 404


@needs_npm
async def test_the_static_mount_serves_the_installed_files(assets: Path) -> None:
    app = Starlette(routes=[graphiql_mount(assets_dir=assets)])
    async with _client(app) as client:
        response = await client.get(f"{STATIC_PREFIX}/react.production.min.js?v=1")
        assert response.status_code == 200
        assert response.content == (assets / "react.production.min.js").read_bytes()
        assert "max-age" in response.headers["cache-control"]
        assert (await client.get(f"{STATIC_PREFIX}/%2E%2E/graphiql_assets.py")).status_code == 404


# --- a real browser ---------------------------------------------------------------------------


@strawberry.type
class Me:
    email: str
    role: str


@strawberry.type
class Query:
    @strawberry.field
    def me(self) -> Me:
        return Me(email="demo@example.com", role="ADMIN")

    @strawberry.field
    def system_mode(self) -> str:
        return "READ_ONLY"


class _LocalGraphiQL(GraphQL[Any, Any]):
    """What the gateway does: strawberry's view with the IDE page swapped for ours."""

    def __init__(self, assets: Path) -> None:
        super().__init__(strawberry.Schema(query=Query))
        self.assets = assets

    async def render_graphql_ide(self, request: Request) -> Response:
        page = render_graphiql_page(assets_dir=self.assets, default_headers={"Authorization": "Bearer demo"})
        return HTMLResponse(page)


class _Recorder:
    """Notes every HTTP request the browser makes, to prove what it fetched and sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.seen: list[tuple[str, str, str]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            self.seen.append((scope["method"], scope["path"], headers.get(b"authorization", b"").decode()))
        await self.app(scope, receive, send)


@pytest.fixture
def served(assets: Path) -> Iterator[tuple[str, _Recorder]]:
    view = _LocalGraphiQL(assets)
    app = Starlette(
        routes=[Route("/graphql", view), WebSocketRoute("/graphql", view), graphiql_mount(assets_dir=assets)]
    )
    recorder = _Recorder(app)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(recorder, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/graphql", recorder
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def _chromium(url: str, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-component-update", "--no-first-run",
         f"--user-data-dir={profile}", "--window-size=1400,900", "--virtual-time-budget=15000", *extra, url],
        capture_output=True, text=True, timeout=180, check=False,
    )


@needs_npm
@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)")
def test_graphiql_renders_in_a_headless_browser_from_local_files_only(
    served: tuple[str, _Recorder], tmp_path: Path
) -> None:
    url, recorder = served
    dumped = _chromium(url, tmp_path / "profile-dom", "--dump-dom")
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    dom = dumped.stdout
    assert "graphiql-container" in dom, dom[:2000]
    assert "graphiql-editors" in dom
    assert '<div id="graphiql" class="spyne-notice"' not in dom  # the "scripts did not load" fallback
    # Every asset came from us, and the schema was fetched with the pre-filled header.
    fetched = {path for method, path, _ in recorder.seen if method == "GET"}
    assert {f"{STATIC_PREFIX}/{name}" for name in (*PAGE_SCRIPTS, *PAGE_STYLES)} <= fetched
    posts = [auth for method, path, auth in recorder.seen if (method, path) == ("POST", "/graphql")]
    assert posts and all(auth == "Bearer demo" for auth in posts)

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "graphiql.png"
    shot.unlink(missing_ok=True)
    taken = _chromium(url, tmp_path / "profile-shot", f"--screenshot={shot}")
    assert taken.returncode == 0, taken.stderr[-2000:]
    assert shot.stat().st_size > 10_000


def test_the_welcome_text_names_a_command_that_exists_and_the_demo_tokens() -> None:
    from gateway.http.graphiql import DEFAULT_QUERY

    # `make install` creates .venv/bin/spyne; a bare `spyne` exists only in an activated venv.
    assert ".venv/bin/spyne token --email" in DEFAULT_QUERY
    assert "make demo" in DEFAULT_QUERY and "VIEWER, ANALYST, ENGINEER, ADMIN" in DEFAULT_QUERY
