"""Servers for benchmarks: the real gateway and a plain Starlette floor, each in its own process.

Client and server never share a process (nor the GIL): what is measured is what a client on
127.0.0.1 sees from one uvicorn worker.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
DEV_SECRET = "bench-secret-0123456789abcdef-0123456789abcdef"

FLOOR_APP = '''
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

async def echo(request):
    body = await request.json()
    return JSONResponse({"data": {"echo": len(body.get("query", ""))}})

app = Starlette(routes=[Route("/json", echo, methods=["POST"])])
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


class Server:
    def __init__(self, args: list[str], env: dict[str, str], cwd: Path, health: str) -> None:
        self.process = subprocess.Popen(args, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        wait_until_up(health)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def start_floor(workdir: Path) -> tuple[Server, str]:
    (workdir / "floor_app.py").write_text(FLOOR_APP)
    port = free_port()
    server = Server([sys.executable, "-m", "uvicorn", "floor_app:app", "--port", str(port), "--log-level",
                     "warning", "--no-access-log"], dict(os.environ), workdir, f"http://127.0.0.1:{port}/json")
    return server, f"http://127.0.0.1:{port}/json"


def tpch_workspace(catalog) -> tuple[Path, dict[str, str]]:  # type: ignore[no-untyped-def]
    """A catalog with the TPC-H tables registered over an (empty) SQLite warehouse of them."""
    workdir = Path(tempfile.mkdtemp(prefix="spyne-bench-"))
    warehouse = workdir / "warehouse.db"
    with sqlite3.connect(warehouse) as conn:
        for table in catalog.tables.values():
            version = table.versions[0]
            columns = ", ".join(f'"{c.name}" {c.type}' for c in version.columns)
            conn.execute(f'CREATE TABLE "{version.physical_name}" ({columns})')
    env = {**os.environ, "SPYNE_CATALOG_URL": f"sqlite:///{workdir}/catalog.db",
           "SPYNE_WAREHOUSE_URL": f"sqlite:///{warehouse}", "SPYNE_DEV_SECRET": DEV_SECRET}
    subprocess.run([sys.executable, "-m", "gateway.cli", "migrate"], env=env, cwd=workdir, check=True,
                   stdout=subprocess.DEVNULL)
    asyncio.run(_register(env, [(t.name, t.versions[0].physical_name) for t in catalog.tables.values()]))
    return workdir, env


async def _register(env: dict[str, str], tables: list[tuple[str, str]]) -> None:
    from gateway.app import build_services
    from gateway.cli import cli_principal
    from gateway.settings import load_settings

    services = build_services(load_settings(env))
    try:
        await services.users.ensure_mode()
        for name, physical in tables:
            await services.catalog.register_table(cli_principal(), name, physical)
    finally:
        services.deps.warehouse.dispose()
        await services.deps.uow.engine.dispose()


def start_gateway(workdir: Path, env: dict[str, str]) -> tuple[Server, str]:
    port = free_port()
    server = Server([sys.executable, "-m", "uvicorn", "gateway.asgi:app", "--port", str(port),
                     "--log-level", "warning", "--no-access-log"], env, workdir,
                    f"http://127.0.0.1:{port}/healthz")
    return server, f"http://127.0.0.1:{port}"


def dev_token(role: str = "ANALYST") -> str:
    from gateway.auth import mint_dev_token

    return mint_dev_token(DEV_SECRET.encode(), "bench@example.com", role, 3600)
