"""Bad warehouse configuration: refused at start with what to do, or coded errors that never hang."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gateway.app import READY_PROBE_S
from gateway.errors import WarehouseError
from gateway.warehouse.registry import ADAPTERS, WarehouseConfigError, adapter_for, open_warehouse
from tests.support.databases import fresh_sqlite_catalog
from tests.support.harness import start_gateway, stop_gateway

REGISTER = """mutation { registerTable(input: {name: "orders", physicalName: "orders"}) { name } }"""
WAREHOUSE = "{ warehouse { engine dialect capabilities } }"


def test_an_unknown_url_scheme_is_refused_naming_the_schemes_served() -> None:
    with pytest.raises(WarehouseConfigError, match="No warehouse adapter for URL scheme 'oracle'") as refused:
        open_warehouse("oracle://scott:tiger@db/orcl")
    for entry in ADAPTERS:
        assert entry.url_form.split(":", 1)[0] in str(refused.value)


def test_a_url_that_is_not_a_url_is_refused() -> None:
    with pytest.raises(WarehouseConfigError):
        adapter_for("not a url at all")


def _serve(env_url: str, block: str | None, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    prelude = f"import sys; sys.modules[{block!r}] = None; " if block else "import sys; "
    code = prelude + "from gateway.cli import main; sys.exit(main(['serve', '--port', '1']))"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          cwd=tmp_path, env={"SPYNE_WAREHOUSE_URL": env_url, "PATH": "/usr/bin:/bin",
                                             "SPYNE_CATALOG_URL": f"sqlite:///{tmp_path / 'c.db'}",
                                             "PYTHONPATH": str(Path(__file__).parents[2])})


def test_spyne_serve_refuses_to_start_on_an_unknown_scheme(tmp_path: Path) -> None:
    done = _serve("oracle://scott@db/orcl", None, tmp_path)
    assert done.returncode != 0
    assert "No warehouse adapter for URL scheme 'oracle'" in done.stderr


@pytest.mark.parametrize("entry", [e for e in ADAPTERS if e.extra], ids=lambda e: e.backend)
def test_spyne_serve_refuses_to_start_without_the_driver_and_names_the_package(entry: object,
                                                                              tmp_path: Path) -> None:
    from gateway.warehouse.registry import AdapterEntry

    assert isinstance(entry, AdapterEntry)
    url = entry.url_form.replace("path/to", str(tmp_path))
    done = _serve(url, entry.drivers[0], tmp_path)
    assert done.returncode != 0
    assert f"pip install 'spyne-gateway[{entry.extra}]'" in done.stderr, done.stderr


async def test_an_unreachable_warehouse_is_503_and_coded_errors_without_hanging(
        sqlite_template: Path, tmp_path: Path) -> None:
    catalog = fresh_sqlite_catalog(sqlite_template, tmp_path)
    gw = await start_gateway(catalog, "postgresql://nobody@127.0.0.1:1/none")
    try:
        started = time.monotonic()
        ready = await gw.client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["warehouse"].startswith("unreachable")
        assert ready.json()["warehouse"]["engine"] == "postgresql"
        assert await gw.error_code(REGISTER) == "WAREHOUSE_ERROR"
        assert time.monotonic() - started < 20
        info = (await gw.ok(WAREHOUSE, role="VIEWER"))["warehouse"]
        assert info["engine"] == "postgresql" and info["dialect"] == "postgres"
        assert "estimate" in info["capabilities"]
    finally:
        await stop_gateway(gw)


async def test_the_warehouse_query_needs_a_token(sqlite_template: Path, tmp_path: Path) -> None:
    catalog = fresh_sqlite_catalog(sqlite_template, tmp_path)
    gw = await start_gateway(catalog, f"sqlite:///{tmp_path / 'w.db'}")
    try:
        assert await gw.error_code(WAREHOUSE, role=None) == "UNAUTHENTICATED"
        info = (await gw.ok(WAREHOUSE, role="VIEWER"))["warehouse"]
        assert info == {"engine": "sqlite", "dialect": "sqlite",
                        "capabilities": ["introspection", "read_only", "row_cap", "byte_cap",
                                         "statement_timeout", "cancel", "column_stats", "join_stats",
                                         "ingestion", "streamed_reads"]}
    finally:
        await stop_gateway(gw)


def _cli(args: list[str], env_url: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    code = f"import sys; from gateway.cli import main; sys.exit(main({args!r}))"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          cwd=tmp_path, env={"SPYNE_WAREHOUSE_URL": env_url, "PATH": "/usr/bin:/bin",
                                             "SPYNE_CATALOG_URL": f"sqlite:///{tmp_path / 'c.db'}",
                                             "PYTHONPATH": str(Path(__file__).parents[2])})


def test_several_workers_on_one_writable_duckdb_file_are_refused_at_start(tmp_path: Path) -> None:
    done = _cli(["serve", "--workers", "2", "--port", "1"], f"duckdb:///{tmp_path / 'w.duckdb'}", tmp_path)
    assert done.returncode != 0
    assert "lets one process write it" in done.stderr and "read_only=true" in done.stderr


def test_a_duckdb_file_held_by_another_process_is_a_clear_error(tmp_path: Path) -> None:
    import duckdb

    from gateway.warehouse.adapters.duckdb import DuckDBLocked, open_duckdb

    path = tmp_path / "held.duckdb"
    duckdb.connect(str(path)).close()
    holder = subprocess.Popen([sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(path)!r}); "
                               "print('open', flush=True); time.sleep(60)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        with pytest.raises(DuckDBLocked, match=f"PID {holder.pid}"):
            open_duckdb(str(path), read_only=False)
    finally:
        holder.kill()
        holder.wait()


async def test_duckdb_threads_are_capped_by_the_url_and_a_bad_value_is_refused(tmp_path: Path) -> None:
    import duckdb

    path = tmp_path / "capped.duckdb"
    duckdb.connect(str(path)).close()
    capped = open_warehouse(f"duckdb:///{path}?threads=1")
    try:
        result = await capped.execute_read_only("SELECT current_setting('threads') AS t", max_rows=1)
        assert result.rows == [[1]]
        # Locked with the rest of the configuration: a query cannot raise it again.
        with pytest.raises(WarehouseError):
            await capped.execute_read_only("SET threads = 2", max_rows=1)
    finally:
        capped.dispose()
    with pytest.raises(WarehouseConfigError, match="threads='0'"):
        open_warehouse(f"duckdb:///{path}?threads=0")


def test_demo_load_builds_the_demo_in_duckdb(tmp_path: Path) -> None:
    done = _cli(["migrate"], "sqlite:///unused.db", tmp_path)
    assert done.returncode == 0, done.stderr
    url = f"duckdb:///{tmp_path / 'demo.duckdb'}"
    done = _cli(["demo", "load", "--warehouse", "duckdb", "--scale", "0.01"], url, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "demo catalog loaded: 6 table versions registered" in done.stdout
    import duckdb

    with duckdb.connect(str(tmp_path / "demo.duckdb"), read_only=True) as conn:
        tables = {(s, t) for s, t in conn.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()}
        assert ("spyne_shadow", "order_events__v1") in tables and ("main", "orders__v2") in tables
        assert conn.execute("SELECT COUNT(*) FROM customers").fetchone()[0] > 0  # type: ignore[index]


async def test_a_warehouse_that_accepts_and_never_answers_is_503_within_the_probe_bound(
        sqlite_template: Path, tmp_path: Path) -> None:
    """A server that takes the connection and says nothing: a driver without a socket timeout
    (PyHive) would wait on it for good; /readyz answers anyway."""
    silent = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # connections complete in the backlog and are never accepted
    try:
        gw = await start_gateway(fresh_sqlite_catalog(sqlite_template, tmp_path),
                                 f"hive://spyne@127.0.0.1:{silent.getsockname()[1]}/default")
        try:
            started = time.monotonic()
            ready = await gw.client.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["checks"]["warehouse"] == "unreachable: TimeoutError"
            assert time.monotonic() - started < READY_PROBE_S + 3
        finally:
            await stop_gateway(gw)
    finally:
        silent.close()  # resets the waiting connection: the probe's worker thread ends
