"""Fixtures: every catalog test runs on real SQLite, and on real PostgreSQL when configured."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from gateway.services.demo import load_demo_catalog
from gateway.store.engine import migrate
from gateway.warehouse.demo_data import DemoSummary, generate_demo_warehouse
from tests.support.databases import (
    create_pg_database,
    drop_pg_database,
    fresh_sqlite_catalog,
    make_sqlite_template,
    need_postgres,
    reset_pg_catalog,
)
from tests.support.harness import Gateway, start_gateway, stop_gateway
from tests.support.pg_warehouse import copy_demo_to_postgres
from tests.support.spark import one_at_a_time as one_spark_test_at_a_time
from tests.support.spark import server_url as spark_server_url

BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_sqlite_template(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="session")
def pg_catalog_database() -> Iterator[str]:
    url = create_pg_database("spyne_test_catalog")
    try:
        migrate(url)
        yield url
    finally:
        drop_pg_database(url)


@pytest.fixture(params=BACKENDS)
def catalog_url(request: pytest.FixtureRequest, sqlite_template: Path, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return fresh_sqlite_catalog(sqlite_template, tmp_path)
    need_postgres()
    url: str = request.getfixturevalue("pg_catalog_database")
    reset_pg_catalog(url)
    return url


@pytest.fixture(autouse=True)
def _spark_tests_one_at_a_time(request: pytest.FixtureRequest) -> Iterator[None]:
    if request.node.get_closest_marker("spark") is None:
        yield
        return
    with one_spark_test_at_a_time():
        yield


@pytest.fixture(scope="session")
def spark_server() -> Iterator[str]:
    """A Spark Thrift server's URL, once per session (see tests/support/spark.py)."""
    yield from spark_server_url()


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> DemoSummary:
    path = tmp_path_factory.mktemp("warehouse") / "warehouse.db"
    return generate_demo_warehouse(str(path), scale=0.01)


@pytest.fixture(scope="session")
def pg_demo_warehouse(demo_warehouse: DemoSummary) -> Iterator[str]:
    """The demo warehouse copied into a throwaway PostgreSQL database (read-only, like the SQLite one)."""
    url = create_pg_database("spyne_test_warehouse")
    try:
        copy_demo_to_postgres(demo_warehouse.path, url)
        yield url
    finally:
        drop_pg_database(url)


@pytest.fixture
async def gateway(catalog_url: str, demo_warehouse: DemoSummary) -> AsyncIterator[Gateway]:
    """A gateway over a fresh catalog and the (read-only) demo warehouse, demo catalog loaded."""
    gw = await start_gateway(catalog_url, f"sqlite:///{demo_warehouse.path}")
    await load_demo_catalog(gw.services.deps, demo_warehouse)
    try:
        yield gw
    finally:
        await stop_gateway(gw)


@pytest.fixture
async def empty_gateway(catalog_url: str, demo_warehouse: DemoSummary) -> AsyncIterator[Gateway]:
    gw = await start_gateway(catalog_url, f"sqlite:///{demo_warehouse.path}")
    try:
        yield gw
    finally:
        await stop_gateway(gw)
