"""Bad warehouse configuration: refused at start with what to do, or coded errors that never hang."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

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
                                         "ingestion"]}
    finally:
        await stop_gateway(gw)
