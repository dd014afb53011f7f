"""A live uvicorn serving the real app on 127.0.0.1, in a thread, for clients that speak HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import uvicorn

from gateway.app import create_app
from gateway.services.demo import load_demo_catalog
from gateway.settings import Settings
from gateway.warehouse.demo_data import DemoSummary


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    def __init__(self, settings: Settings) -> None:
        self.port = free_port()
        config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=self.port, log_level="warning",
                                lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the live server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@contextlib.contextmanager
def demo_live_server(directory: Path, sqlite_template: Path, demo_warehouse: DemoSummary) -> Iterator[LiveServer]:
    """A live uvicorn gateway on a fresh SQLite catalog with the demo catalog loaded, over the
    (read-only) demo warehouse: what a newcomer's `make demo` serves."""
    from tests.support.databases import fresh_sqlite_catalog
    from tests.support.harness import DEV_SECRET, start_gateway, stop_gateway

    catalog = fresh_sqlite_catalog(sqlite_template, directory)
    warehouse = f"sqlite:///{demo_warehouse.path}"

    async def seed() -> None:
        gw = await start_gateway(catalog, warehouse)
        await load_demo_catalog(gw.services.deps, demo_warehouse)
        await stop_gateway(gw)

    asyncio.run(seed())
    with LiveServer(Settings(catalog_url=catalog, warehouse_url=warehouse, dev_secret=DEV_SECRET)) as server:
        yield server
