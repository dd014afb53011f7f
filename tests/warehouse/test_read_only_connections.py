"""Defence in depth: even SQL that slipped past the planner cannot write or reach further."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from gateway.errors import WarehouseError
from gateway.warehouse.contract import Warehouse
from gateway.warehouse.registry import open_warehouse
from tests.support.databases import create_pg_database, database_url, drop_pg_database
from tests.support.pg_warehouse import pg_dsn


@pytest.fixture
def sqlite_warehouse(tmp_path: Path) -> Iterator[Warehouse]:
    path = tmp_path / "w.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        conn.execute("INSERT INTO t VALUES (1, 'a')")
    warehouse = open_warehouse(f"sqlite:///{path}")
    yield warehouse
    warehouse.dispose()


@pytest.mark.parametrize("sql", [
    "DELETE FROM t", "INSERT INTO t VALUES (2, 'b')", "CREATE TABLE x (a INT)", "DROP TABLE t",
    "ATTACH DATABASE '/tmp/evil.db' AS evil", "PRAGMA query_only = OFF",
])
async def test_sqlite_query_connection_cannot_write_or_attach(sqlite_warehouse: Warehouse, sql: str) -> None:
    with pytest.raises(WarehouseError):
        result = await sqlite_warehouse.execute_read_only(sql, max_rows=10)
        # PRAGMA answers without error but must not have switched writing back on.
        if sql.startswith("PRAGMA"):
            await sqlite_warehouse.execute_read_only("DELETE FROM t", max_rows=10)
        assert result is None
    rows = (await sqlite_warehouse.execute_read_only("SELECT COUNT(*) FROM t", max_rows=10)).rows
    assert rows == [[1]]


@pytest.fixture
def pg_warehouse_with_query_role() -> Iterator[tuple[str, str]]:
    url = create_pg_database("spyne_test_ro")
    role = f"spyne_query_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_dsn(url), autocommit=True) as conn:
        conn.execute("CREATE TABLE public.t (id int primary key, v text)")
        conn.execute("INSERT INTO public.t VALUES (1, 'a')")
        conn.execute("CREATE SCHEMA spyne_shadow")
        conn.execute("CREATE TABLE spyne_shadow.staged (id int)")
        conn.execute(f'CREATE ROLE "{role}" LOGIN')
        conn.execute(f'GRANT SELECT ON public.t TO "{role}"')
    query_url = database_url(url, str(url.rsplit("/", 1)[1])).replace("postgres@", f"{role}@", 1)
    try:
        yield url, query_url
    finally:
        drop_pg_database(url)
        with psycopg.connect(pg_dsn(url.rsplit("/", 1)[0] + "/postgres"), autocommit=True) as conn:
            conn.execute(f'DROP ROLE IF EXISTS "{role}"')


async def test_postgres_query_transaction_is_read_only_and_role_is_fenced(
        pg_warehouse_with_query_role: tuple[str, str]) -> None:
    url, query_url = pg_warehouse_with_query_role
    assert "@" in query_url and query_url != url
    admin_only = open_warehouse(url)
    fenced = open_warehouse(url, query_url=query_url)
    try:
        with pytest.raises(WarehouseError, match="read-only"):
            await admin_only.execute_read_only("DELETE FROM public.t", max_rows=10)
        assert (await fenced.execute_read_only("SELECT v FROM public.t", max_rows=10)).rows == [["a"]]
        with pytest.raises(WarehouseError, match="permission denied"):
            await fenced.execute_read_only("SELECT * FROM spyne_shadow.staged", max_rows=10)
        assert (await admin_only.execute_read_only("SELECT COUNT(*) FROM public.t", max_rows=10)).rows == [[1]]
    finally:
        admin_only.dispose()
        fenced.dispose()


# --- pooled SQLite read connections ------------------------------------------------------------


async def test_sqlite_read_connections_are_reused_and_keep_their_fences(sqlite_warehouse: Warehouse) -> None:
    for _ in range(5):
        assert (await sqlite_warehouse.execute_read_only("SELECT v FROM t", max_rows=10)).rows == [["a"]]
    pool = sqlite_warehouse._read_engine.pool
    assert pool.checkedin() >= 1 and pool.checkedin() < 5  # type: ignore[attr-defined]
    with pytest.raises(WarehouseError):  # a reused connection is as read-only as a new one
        await sqlite_warehouse.execute_read_only("DELETE FROM t", max_rows=10)


async def test_a_timed_out_query_leaves_no_deadline_on_its_pooled_connection(sqlite_warehouse: Warehouse) -> None:
    slow = ("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50000000) "
            "SELECT COUNT(*) FROM n")
    from gateway.errors import Timeout

    with pytest.raises(Timeout):
        await sqlite_warehouse.execute_read_only(slow, max_rows=10, timeout_ms=20)
    # The same pooled connection, used past the old deadline by anything that sets none of its own
    # (ping, say), is not interrupted by the handler that query left behind.
    await asyncio.sleep(0.05)
    from sqlalchemy import text

    with sqlite_warehouse._read_engine.connect() as conn:
        assert conn.execute(text(slow.replace("50000000", "200000"))).scalar_one() == 200000


async def test_a_warehouse_file_replaced_underneath_is_read_afresh(tmp_path: Path,
                                                                   sqlite_warehouse: Warehouse) -> None:
    assert (await sqlite_warehouse.execute_read_only("SELECT v FROM t", max_rows=10)).rows == [["a"]]
    path = Path(sqlite_warehouse.url.removeprefix("sqlite:///"))
    replacement = tmp_path / "new.db"
    with sqlite3.connect(replacement) as conn:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        conn.execute("INSERT INTO t VALUES (1, 'b')")
    replacement.replace(path)  # as `spyne demo load` does: a new file renamed over the old
    assert (await sqlite_warehouse.execute_read_only("SELECT v FROM t", max_rows=10)).rows == [["b"]]
    path.unlink()
    with pytest.raises(WarehouseError):
        await sqlite_warehouse.execute_read_only("SELECT v FROM t", max_rows=10)
