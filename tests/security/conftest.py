"""Fixtures of the adversarial suite.

``hostile`` is a gateway over the read-only demo warehouse with the demo catalog loaded, on two
stacks: SQLite catalog + SQLite warehouse, and PostgreSQL catalog + PostgreSQL warehouse (the
PostgreSQL half runs when ``SPYNE_TEST_POSTGRES_URL`` is set). ``ingest_gw`` is a gateway over a
writable warehouse of its own in INGESTION_READY mode, for the ingestion and backfill attacks.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from gateway.domain import SystemMode
from gateway.services.demo import load_demo_catalog
from gateway.warehouse.demo_data import DemoSummary
from tests.ingestion.conftest import reset_pg_warehouse
from tests.support.databases import (
    create_pg_database,
    drop_pg_database,
    fresh_sqlite_catalog,
    need_postgres,
    reset_pg_catalog,
)
from tests.support.harness import Gateway, start_gateway, stop_gateway

STACKS = ["sqlite", "postgres"]


def _catalog(request: pytest.FixtureRequest, stack: str, sqlite_template: Path, tmp_path: Path) -> str:
    if stack == "sqlite":
        return fresh_sqlite_catalog(sqlite_template, tmp_path)
    need_postgres()
    url: str = request.getfixturevalue("pg_catalog_database")
    reset_pg_catalog(url)
    return url


@pytest.fixture(params=STACKS)
async def hostile(request: pytest.FixtureRequest, sqlite_template: Path, tmp_path: Path,
                  demo_warehouse: DemoSummary) -> AsyncIterator[Gateway]:
    stack = request.param
    catalog = _catalog(request, stack, sqlite_template, tmp_path)
    warehouse = (f"sqlite:///{demo_warehouse.path}" if stack == "sqlite"
                 else str(request.getfixturevalue("pg_demo_warehouse")))
    gw = await start_gateway(catalog, warehouse)
    await load_demo_catalog(gw.services.deps, demo_warehouse)
    try:
        yield gw
    finally:
        await stop_gateway(gw)


@pytest.fixture(scope="session")
def pg_ingest_warehouse() -> Iterator[str]:
    url = create_pg_database("spyne_test_sec_wh")
    try:
        yield url
    finally:
        drop_pg_database(url)


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    path = tmp_path / "archive"
    path.mkdir()
    return path


@pytest.fixture(params=STACKS)
async def ingest_gw(request: pytest.FixtureRequest, sqlite_template: Path, tmp_path: Path,
                    archive: Path) -> AsyncIterator[Gateway]:
    stack = request.param
    catalog = _catalog(request, stack, sqlite_template, tmp_path)
    if stack == "sqlite":
        warehouse = f"sqlite:///{tmp_path / 'warehouse.db'}"
    else:
        warehouse = str(request.getfixturevalue("pg_ingest_warehouse"))
        reset_pg_warehouse(warehouse)
    gw = await start_gateway(catalog, warehouse, initial_mode=SystemMode.INGESTION_READY,
                             archive_dir=str(archive))
    try:
        yield gw
    finally:
        await stop_gateway(gw)
