"""WAREHOUSE_ERROR tells the client what went wrong, never where the warehouse is.

Every driver error goes through ``gateway.warehouse.errors`` (``Warehouse.run``): the client's
message carries no host, port, user, password, database name or file path; the operator finds the
driver's own words in the log (WARNING for an unreachable warehouse, INFO for a refused
statement, never ERROR), with the request id the client saw.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
import uuid
from pathlib import Path

import psycopg
import pytest

from gateway.errors import Timeout, WarehouseError
from gateway.warehouse.errors import UNREACHABLE_MESSAGE, WarehouseErrors
from tests.ingestion.conftest import contract_input, event
from tests.support.databases import create_pg_database, drop_pg_database, fresh_sqlite_catalog, need_postgres
from tests.support.harness import Gateway, start_gateway, stop_gateway
from tests.support.live import free_port
from tests.support.pg_warehouse import pg_dsn

REGISTER_TABLE = """mutation($n: String!, $p: String!) { registerTable(input: {name: $n, physicalName: $p}) {
  name } }"""
REGISTER_CONTRACT = """mutation($input: RegisterContractInput!) { registerContract(input: $input) { id } }"""
PREVIEW = """mutation($sql: String!) { previewQuery(input: {sql: $sql}) { id } }"""
EXECUTE = """mutation($id: ID!) { executeQuery(previewId: $id) { rowCount } }"""


def assert_clean(message: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret.lower() not in message.lower(), f"{secret!r} leaked in {message!r}"
    assert "/" not in message.replace("try again", ""), message


def warehouse_log(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "spyne.warehouse"]


def assert_logged(caplog: pytest.LogCaptureFixture, request_id: str, level: int, detail: str) -> None:
    records = warehouse_log(caplog)
    assert records, "the operator got nothing in the log"
    assert all(r.levelno < logging.ERROR for r in caplog.records if r.name.startswith("spyne")), \
        [(r.name, r.levelname, r.getMessage()) for r in caplog.records if r.levelno >= logging.ERROR]
    mine = [r for r in records if getattr(r, "request_id", None) == request_id]
    assert mine and mine[0].levelno == level, [(r.levelname, getattr(r, "request_id", None)) for r in records]
    assert detail.lower() in mine[0].getMessage().lower(), mine[0].getMessage()


async def error_of(gw: Gateway, query: str, variables: dict[str, object], role: str = "ADMIN") -> dict[str, object]:
    body = await gw.gql(query, variables, role=role)
    assert body.get("errors"), body
    error: dict[str, object] = body["errors"][0]
    return error


# --- the translation itself, on the words real drivers use ---------------------------------

DRIVER_MESSAGES = [
    (psycopg.OperationalError('connection failed: connection to server at "10.20.30.40", port 5439 failed: '
                              'Connection refused\n\tIs the server running on that host?'), "unreachable"),
    (psycopg.OperationalError('connection failed: FATAL:  password authentication failed for user "etl_admin"'),
     "unreachable"),
    (psycopg.OperationalError('connection failed: FATAL:  database "sales_prod" does not exist'), "unreachable"),
    (psycopg.OperationalError('connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed: '
                              "No such file or directory"), "unreachable"),
    (sqlite3.OperationalError("unable to open database file"), "unreachable"),
    (sqlite3.OperationalError("interrupted"), "timeout"),
    (psycopg.errors.QueryCanceled("canceling statement due to statement timeout"), "timeout"),
    (psycopg.errors.UndefinedColumn('column "nope" does not exist\nLINE 1: SELECT nope FROM t'), "refused"),
    (sqlite3.OperationalError("cannot open file /srv/data/warehouse.db-journal"), "unreachable"),
    (sqlite3.DatabaseError("file is not a database: /srv/data/etl_admin/warehouse.db"), "refused"),
]


@pytest.mark.parametrize(("error", "kind"), DRIVER_MESSAGES, ids=lambda v: type(v).__name__ if isinstance(v, Exception) else v)
def test_driver_errors_become_client_safe_codes(error: Exception, kind: str) -> None:
    errors = WarehouseErrors("postgresql://etl_admin:hunter22@10.20.30.40:5439/sales_prod", "sqlite:////srv/data/x.db")
    translated = errors.translate(error)
    assert isinstance(translated, Timeout if kind == "timeout" else WarehouseError)
    if kind == "unreachable":
        assert translated.message == UNREACHABLE_MESSAGE
    assert_clean(translated.message, "10.20.30.40", "5439", "etl_admin", "hunter22", "sales_prod", "/srv",
                 "/var/run", "warehouse.db")


def test_other_drivers_are_recognised_and_scrubbed() -> None:
    class Error(Exception):  # how PEP 249 drivers name their root; the module has `paramstyle`
        pass

    import types

    fake_driver = types.ModuleType("pepdriver")
    fake_driver.paramstyle = "qmark"  # type: ignore[attr-defined]
    Error.__module__ = "pepdriver"
    import sys

    sys.modules["pepdriver"] = fake_driver
    try:
        translated = WarehouseErrors().translate(
            Error("Access denied for user 'bob'@'192.168.1.9' (using password: YES)"))
        assert isinstance(translated, WarehouseError)
        assert_clean(translated.message, "bob", "192.168.1.9")
        refused = WarehouseErrors().translate(Error("Table 'shop.orders' doesn't exist at [::1]:3306"))
        assert refused is not None and "::1" not in refused.message and "3306" not in refused.message
    finally:
        del sys.modules["pepdriver"]
    assert WarehouseErrors().translate(KeyError("not a driver's")) is None


# --- through the real endpoints --------------------------------------------------------------

async def test_postgres_down_answers_without_host_port_user_or_database(
        sqlite_template: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()  # nothing listens there
    url = f"postgresql://spyne_probe:pw_4711@127.0.0.1:{port}/spyne_secret_db"
    gw = await start_gateway(fresh_sqlite_catalog(sqlite_template, tmp_path), url)
    caplog.set_level(logging.INFO)
    try:
        error = await error_of(gw, REGISTER_TABLE, {"n": "orders", "p": "orders"})
        extensions = error["extensions"]
        assert isinstance(extensions, dict) and extensions["code"] == "WAREHOUSE_ERROR"
        assert_clean(str(error["message"]), "127.0.0.1", str(port), "spyne_probe", "pw_4711", "spyne_secret_db")
        assert_logged(caplog, str(extensions["requestId"]), logging.WARNING, str(port))
    finally:
        await stop_gateway(gw)


async def test_a_missing_postgres_database_is_not_named(sqlite_template: Path, tmp_path: Path,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    base = need_postgres()
    url = create_pg_database("spyne_test_gone")
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(pg_dsn(url), autocommit=True) as conn:
        conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, total DOUBLE PRECISION)")
    gw = await start_gateway(fresh_sqlite_catalog(sqlite_template, tmp_path), url)
    caplog.set_level(logging.INFO)
    try:
        await gw.ok(REGISTER_TABLE, {"n": "orders", "p": "orders"})
        preview = (await gw.ok(PREVIEW, {"sql": "SELECT id FROM orders"}, role="VIEWER"))["previewQuery"]["id"]
        gw.services.deps.warehouse.dispose()
        drop_pg_database(url)  # the warehouse database disappears under the gateway
        error = await error_of(gw, EXECUTE, {"id": preview}, role="VIEWER")
        extensions = error["extensions"]
        assert isinstance(extensions, dict) and extensions["code"] == "WAREHOUSE_ERROR", error
        assert_clean(str(error["message"]), name, "127.0.0.1", "5432", "postgres")
        assert_logged(caplog, str(extensions["requestId"]), logging.WARNING, name)
    finally:
        await stop_gateway(gw)
        drop_pg_database(url)
    assert base


async def test_a_missing_sqlite_file_is_not_shown(sqlite_template: Path, tmp_path: Path,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    missing = tmp_path / "secret_dir" / "nested" / "warehouse_file.db"
    gw = await start_gateway(fresh_sqlite_catalog(sqlite_template, tmp_path), f"sqlite:///{missing}")
    caplog.set_level(logging.INFO)
    try:
        error = await error_of(gw, REGISTER_TABLE, {"n": "orders", "p": "orders"})
        extensions = error["extensions"]
        assert isinstance(extensions, dict) and extensions["code"] == "WAREHOUSE_ERROR"
        assert_clean(str(error["message"]), "secret_dir", "warehouse_file", str(tmp_path))
        assert_logged(caplog, str(extensions["requestId"]), logging.WARNING, "unable to open")
    finally:
        await stop_gateway(gw)


async def test_ndjson_ingest_into_a_vanished_sqlite_warehouse_is_a_clean_503(
        sqlite_template: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from gateway.domain import SystemMode

    folder = tmp_path / "wh_folder_" / uuid.uuid4().hex[:6]
    folder.mkdir(parents=True)
    gw = await start_gateway(fresh_sqlite_catalog(sqlite_template, tmp_path), f"sqlite:///{folder / 'w.db'}",
                             initial_mode=SystemMode.INGESTION_READY)
    caplog.set_level(logging.INFO)
    try:
        await gw.ok(REGISTER_CONTRACT, {"input": contract_input()}, role="ENGINEER")
        shutil.rmtree(folder)
        response = await gw.client.post(
            "/ingest/events", content=(str(event(1)).replace("'", '"') + "\n").encode(),
            headers={"Authorization": f"Bearer {gw.token('ENGINEER')}", "Content-Type": "application/x-ndjson"})
        assert response.status_code == 503, response.text
        error = response.json()["error"]
        assert error["code"] == "WAREHOUSE_ERROR"
        assert_clean(error["message"], "wh_folder_", str(tmp_path), "w.db")
        assert_logged(caplog, error["requestId"], logging.WARNING, "unable to open")
    finally:
        await stop_gateway(gw)
