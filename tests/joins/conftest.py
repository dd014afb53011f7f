"""A gateway over the join warehouse, on the same backend as the catalog under test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.joins.warehouse import TABLES, build_join_warehouse
from tests.support.databases import create_pg_database, drop_pg_database
from tests.support.harness import Gateway, start_gateway, stop_gateway

REGISTER = """mutation($name: String!) { registerTable(input: {name: $name, physicalName: $name}) { name } }"""


@pytest.fixture(scope="session")
def sqlite_join_warehouse(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('joins') / 'warehouse.db'}"
    build_join_warehouse(url)
    return url


@pytest.fixture(scope="session")
def pg_join_warehouse() -> Iterator[str]:
    url = create_pg_database("spyne_test_joins_wh")
    try:
        build_join_warehouse(url)
        yield url
    finally:
        drop_pg_database(url)


@pytest.fixture
async def joins_gateway(catalog_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Gateway]:
    """Catalog and warehouse on the same backend: SQLite with SQLite, PostgreSQL with PostgreSQL."""
    postgres = catalog_url.startswith("postgresql")
    warehouse: str = request.getfixturevalue("pg_join_warehouse" if postgres else "sqlite_join_warehouse")
    gw = await start_gateway(catalog_url, warehouse)
    try:
        for name in TABLES:
            await gw.ok(REGISTER, {"name": name}, role="ADMIN")
        yield gw
    finally:
        await stop_gateway(gw)
