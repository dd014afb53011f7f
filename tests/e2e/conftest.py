"""End-to-end fixtures: the demo warehouse on SQLite and on PostgreSQL (``pg_demo_warehouse`` lives in
tests/conftest.py, shared with tests/security), each with a catalog."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.services.demo import load_demo_catalog
from gateway.warehouse.demo_data import DemoSummary
from tests.support.databases import fresh_sqlite_catalog
from tests.support.harness import Gateway, start_gateway, stop_gateway


@pytest.fixture(params=["sqlite", "postgres"])
def warehouse_url(request: pytest.FixtureRequest, demo_warehouse: DemoSummary) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{demo_warehouse.path}"
    return str(request.getfixturevalue("pg_demo_warehouse"))


@pytest.fixture
async def query_gateway(warehouse_url: str, sqlite_template: Path, tmp_path: Path,
                        demo_warehouse: DemoSummary) -> AsyncIterator[Gateway]:
    """A SQLite catalog over either warehouse (the catalog engines are covered elsewhere)."""
    gw = await start_gateway(fresh_sqlite_catalog(sqlite_template, tmp_path), warehouse_url)
    await load_demo_catalog(gw.services.deps, demo_warehouse)
    try:
        yield gw
    finally:
        await stop_gateway(gw)
