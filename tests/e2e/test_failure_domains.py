"""Failure domains: the warehouse down, the catalog down, several workers on one catalog.

Outages are real: a SQLite warehouse file moved away, a PostgreSQL database that stops
accepting connections (its backends terminated) — and each recovers without a restart.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest

from gateway.domain import TableState
from gateway.records import VersionRecord
from gateway.services.demo import load_demo_catalog
from gateway.store.engine import migrate
from gateway.warehouse.demo_data import DemoSummary
from tests.support.databases import create_pg_database, drop_pg_database, fresh_sqlite_catalog, need_postgres
from tests.support.harness import Gateway, start_gateway, stop_gateway
from tests.support.pg_warehouse import copy_demo_to_postgres, pg_dsn

PREVIEW = """mutation($s: String!) { previewQuery(input: {sql: $s}) { id stored catalogStale assumptions
  tablesUsed { name version } } }"""
EXECUTE = "mutation($id: ID!) { executeQuery(previewId: $id) { rowCount } }"
TABLES = "{ tables { totalCount } }"


def set_connections(url: str, allowed: bool) -> None:
    """Open or close a PostgreSQL database to new connections, dropping the current ones."""
    name = url.rsplit("/", 1)[1]
    admin = pg_dsn(need_postgres())
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allowed).lower()}')
        if not allowed:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE datname = %s AND pid <> pg_backend_pid()", (name,))


async def eventually(check, timeout: float = 10.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        try:
            return await check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)


# --- the warehouse down ----------------------------------------------------------------------


@pytest.fixture
async def movable_sqlite_warehouse(sqlite_template: Path, tmp_path: Path,
                                   demo_warehouse: DemoSummary) -> AsyncIterator[tuple[Gateway, Path]]:
    path = tmp_path / "warehouse.db"
    shutil.copyfile(demo_warehouse.path, path)
    gw = await start_gateway(fresh_sqlite_catalog(sqlite_template, tmp_path), f"sqlite:///{path}")
    await load_demo_catalog(gw.services.deps, demo_warehouse)
    try:
        yield gw, path
    finally:
        await stop_gateway(gw)


async def _warehouse_outage(gw: Gateway, take_down, bring_back) -> None:  # type: ignore[no-untyped-def]
    before = (await gw.ok(PREVIEW, {"s": "SELECT COUNT(*) FROM customers"}, role="ANALYST"))["previewQuery"]
    take_down()
    # Catalog reads and previews do not need the warehouse.
    assert (await gw.ok(TABLES, role="VIEWER"))["tables"]["totalCount"] == 4
    during = (await gw.ok(PREVIEW, {"s": "SELECT COUNT(*) FROM products"}, role="ANALYST"))["previewQuery"]
    assert during["stored"] is True
    assert await gw.error_code(EXECUTE, {"id": during["id"]}, role="ANALYST") == "WAREHOUSE_ERROR"
    bring_back()

    async def runs() -> None:
        body = await gw.gql(EXECUTE, {"id": before["id"]}, role="ANALYST")
        assert not body.get("errors"), body
    await eventually(runs)


async def test_sqlite_warehouse_down_and_back(movable_sqlite_warehouse: tuple[Gateway, Path]) -> None:
    gw, path = movable_sqlite_warehouse
    aside = path.with_suffix(".away")
    await _warehouse_outage(gw, lambda: path.rename(aside), lambda: aside.rename(path))


@pytest.fixture
async def pg_warehouse_gateway(sqlite_template: Path, tmp_path: Path,
                               demo_warehouse: DemoSummary) -> AsyncIterator[tuple[Gateway, str]]:
    url = create_pg_database("spyne_test_down_wh")
    copy_demo_to_postgres(demo_warehouse.path, url)
    gw = await start_gateway(fresh_sqlite_catalog(sqlite_template, tmp_path), url)
    await load_demo_catalog(gw.services.deps, demo_warehouse)
    try:
        yield gw, url
    finally:
        await stop_gateway(gw)
        set_connections(url, True)
        drop_pg_database(url)


async def test_postgres_warehouse_down_and_back(pg_warehouse_gateway: tuple[Gateway, str]) -> None:
    gw, url = pg_warehouse_gateway
    await _warehouse_outage(gw, lambda: set_connections(url, False), lambda: set_connections(url, True))


# --- the catalog down -------------------------------------------------------------------------


@pytest.fixture
def pg_catalog_of_its_own() -> Iterator[str]:
    url = create_pg_database("spyne_test_down_cat")
    migrate(url)
    try:
        yield url
    finally:
        set_connections(url, True)
        drop_pg_database(url)


async def test_catalog_down_plans_from_last_snapshot_and_recovers(
        pg_catalog_of_its_own: str, demo_warehouse: DemoSummary) -> None:
    gw = await start_gateway(pg_catalog_of_its_own, f"sqlite:///{demo_warehouse.path}")
    try:
        await load_demo_catalog(gw.services.deps, demo_warehouse)
        warm = (await gw.ok(PREVIEW, {"s": "SELECT COUNT(*) FROM orders"}, role="ANALYST"))["previewQuery"]
        assert warm["stored"] and not warm["catalogStale"]
        assert (await gw.ok("{ me { role } }"))["me"]["role"] == "ADMIN"  # roles last seen are kept

        set_connections(pg_catalog_of_its_own, False)
        gw.services.catalog.invalidate()  # as if the poll interval had passed
        stale = (await gw.ok(PREVIEW, {"s": "SELECT status FROM orders"}, role="ANALYST"))["previewQuery"]
        assert stale["catalogStale"] is True and stale["stored"] is False
        assert stale["tablesUsed"] == [{"name": "orders", "version": 2}]
        assert any("unreachable" in a for a in stale["assumptions"])
        assert await gw.error_code(TABLES, role="VIEWER") == "CATALOG_UNAVAILABLE"
        assert await gw.error_code('mutation { setSystemMode(mode: INGESTION_READY) }') == "CATALOG_UNAVAILABLE"
        # Someone the gateway has not seen yet gets the least role until the catalog is back.
        assert (await gw.ok("{ me { role } }", email="new-admin@example.com"))["me"]["role"] == "VIEWER"
        assert await gw.error_code(EXECUTE, {"id": warm["id"]}, role="ANALYST") == "CATALOG_UNAVAILABLE"

        set_connections(pg_catalog_of_its_own, True)

        async def recovered() -> None:
            body = await gw.gql(PREVIEW, {"s": "SELECT status FROM orders"}, role="ANALYST")
            assert not body.get("errors") and body["data"]["previewQuery"]["stored"] is True, body
        await eventually(recovered)
        assert (await gw.ok(EXECUTE, {"id": warm["id"]}, role="ANALYST"))["executeQuery"]["rowCount"] == 1
    finally:
        await stop_gateway(gw)


# --- several workers on one catalog ---------------------------------------------------------------


async def test_promotion_through_one_worker_is_seen_by_another_within_a_second(
        pg_catalog_of_its_own: str, demo_warehouse: DemoSummary) -> None:
    warehouse = f"sqlite:///{demo_warehouse.path}"
    first = await start_gateway(pg_catalog_of_its_own, warehouse)
    second = await start_gateway(pg_catalog_of_its_own, warehouse)
    try:
        await load_demo_catalog(first.services.deps, demo_warehouse)
        query = {"s": "SELECT COUNT(*) FROM orders"}
        seen = (await second.ok(PREVIEW, query, role="ANALYST"))["previewQuery"]["tablesUsed"]
        assert seen == [{"name": "orders", "version": 2}]
        deps = first.services.deps
        now = deps.clock()
        async with deps.uow() as uow:
            v2 = (await uow.tables.get("orders")).version(2)  # type: ignore[union-attr]
            await uow.tables.add_version(VersionRecord(
                table="orders", version=3, state=TableState.SHADOW, physical_name="orders__v2_copy",
                columns=v2.columns, row_count=v2.row_count, owner="t", supersedes=2,  # type: ignore[union-attr]
                schema_version="2.1", created_at=now, updated_at=now, deprecated_at=None))
            await uow.commit()
        await first.ok('mutation { promoteTable(table: "orders", version: 3) { table { activeVersion } } }')
        promoted_at = time.monotonic()

        async def second_sees_v3() -> None:
            used = (await second.ok(PREVIEW, query, role="ANALYST"))["previewQuery"]["tablesUsed"]
            assert used == [{"name": "orders", "version": 3}]
        await eventually(second_sees_v3, timeout=5)
        assert time.monotonic() - promoted_at < 1.0
    finally:
        await stop_gateway(first)
        await stop_gateway(second)
