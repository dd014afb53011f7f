"""A live gateway (uvicorn on 127.0.0.1) over the demo warehouse, for the download tests."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from gateway.auth import mint_dev_token
from gateway.services.demo import load_demo_catalog
from gateway.settings import Settings
from gateway.warehouse.demo_data import DemoSummary
from tests.support.databases import fresh_sqlite_catalog
from tests.support.harness import DEV_SECRET, start_gateway, stop_gateway
from tests.support.live import LiveServer

ARROW = "application/vnd.apache.arrow.stream"
PREVIEW = "mutation($sql: String!) { previewQuery(input: {sql: $sql}) { id sql guardrails { type } } }"


class LiveGateway:
    def __init__(self, server: LiveServer, catalog_url: str) -> None:
        self.server = server
        self.url = server.url
        self.catalog_file = catalog_url.removeprefix("sqlite:///")

    def token(self, role: str = "ANALYST", email: str | None = None) -> str:
        return mint_dev_token(DEV_SECRET, email or f"{role.lower()}@example.com", role, 600)

    def gql(self, query: str, variables: dict[str, Any] | None = None, role: str = "ANALYST",
            email: str | None = None) -> dict[str, Any]:
        response = httpx.post(f"{self.url}/graphql", json={"query": query, "variables": variables or {}},
                              headers={"Authorization": f"Bearer {self.token(role, email)}"}, timeout=30)
        body: dict[str, Any] = response.json()
        assert not body.get("errors"), body["errors"]
        return dict(body["data"])

    def register(self, name: str, physical_name: str) -> None:
        self.gql("mutation($n: String!, $p: String!) { registerTable(input: {name: $n, physicalName: $p}) "
                 "{ name } }", {"n": name, "p": physical_name}, role="ADMIN")

    def preview(self, sql: str, role: str = "ANALYST", email: str | None = None) -> str:
        return str(self.gql(PREVIEW, {"sql": sql}, role, email)["previewQuery"]["id"])

    def download(self, preview_id: str, accept: str | None = ARROW, *, role: str = "ANALYST",
                 email: str | None = None, json: Any = None, token: str | None = "default") -> httpx.Response:
        headers = {}
        if accept is not None:
            headers["Accept"] = accept
        if token == "default":
            token = self.token(role, email)
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return httpx.post(f"{self.url}/previews/{preview_id}/result", headers=headers, json=json, timeout=60)

    def executions(self) -> list[tuple[Any, ...]]:
        """(id, preview_id, status, error_code, row_count) of every execution, oldest first."""
        with sqlite3.connect(self.catalog_file) as conn:
            return conn.execute("SELECT id, preview_id, status, error_code, row_count FROM query_executions "
                                "ORDER BY id").fetchall()

    def execution(self, execution_id: int, *, settled: Callable[[tuple[Any, ...]], bool] = lambda r: True,
                  timeout: float = 10) -> tuple[Any, ...]:
        """One execution, once ``settled`` says so (a download completes its record after the last byte)."""
        import time

        deadline = time.monotonic() + timeout
        while True:
            found = [r for r in self.executions() if r[0] == execution_id]
            if found and (settled(found[0]) or time.monotonic() > deadline):
                return found[0]
            time.sleep(0.05)


@contextmanager
def live_gateway(tmp_path: Path, sqlite_template: Path, demo: DemoSummary | None, warehouse_url: str,
                 **settings: Any) -> Iterator[LiveGateway]:
    """``demo``: load the demo catalog over ``warehouse_url`` (None: an empty catalog)."""
    catalog = fresh_sqlite_catalog(sqlite_template, tmp_path)

    async def seed(demo: DemoSummary) -> None:
        gw = await start_gateway(catalog, warehouse_url)
        await load_demo_catalog(gw.services.deps, demo)
        await stop_gateway(gw)

    if demo is not None:
        asyncio.run(seed(demo))
    with LiveServer(Settings(catalog_url=catalog, warehouse_url=warehouse_url, dev_secret=DEV_SECRET,
                             role_cache_seconds=0.0, **settings)) as server:
        yield LiveGateway(server, catalog)
