"""A run whose server is killed mid-stream (``kill -9`` of a live uvicorn) is reconciled.

On each warehouse (SQLite, PostgreSQL, MySQL/MariaDB): a real ``spyne serve`` process lands an NDJSON stream;
after two batches have committed it is killed while the stream is still open. The catalog still
says RUNNING (a killed process writes nothing more). A new server, at start-up, finds the run's
process gone and closes the run as INTERRUPTED with exactly what its committed batches hold;
``ingestionRuns`` and ``/metrics`` show it; sending the whole stream again is exactly-once.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from gateway.auth import mint_dev_token
from gateway.store.engine import sync_url
from tests.ingestion.conftest import EVENTS_CONTRACT, contract_input, reset_pg_warehouse
from tests.support.databases import (
    create_mysql_database,
    drop_mysql_database,
    fresh_sqlite_catalog,
    need_postgres,
    reset_pg_catalog,
)
from tests.support.harness import DEV_SECRET
from tests.support.server_process import ServerProcess

BATCH = 10_000  # gateway.http.ingest.BATCH_LINES
TOTAL = 30_000
RUNS = """query($id: String!) { ingestionRuns(contractId: $id) {
  runId status accepted duplicates quarantined finishedAt errors } }"""


def token(role: str = "ENGINEER") -> str:
    return mint_dev_token(DEV_SECRET, f"{role.lower()}@example.com", role, 3600)


def line(i: int) -> bytes:
    return json.dumps({"id": i, "kind": "k", "amount": 1.0, "happened_at": "2025-03-01T10:00:00Z"}).encode() + b"\n"


def gql(server: ServerProcess, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(server.url + "/graphql", json={"query": query, "variables": variables},
                          headers={"Authorization": f"Bearer {token()}"}, timeout=30)
    body = response.json()
    assert not body.get("errors"), body
    return dict(body["data"])


@pytest.fixture
def mysql_stack(sqlite_template: Path, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A SQLite catalog over a fresh MySQL/MariaDB warehouse database."""
    warehouse = create_mysql_database("spyne_killed")
    try:
        yield fresh_sqlite_catalog(sqlite_template, tmp_path), warehouse
    finally:
        drop_mysql_database(warehouse)


@pytest.fixture(params=["sqlite", "postgres", "mysql"])
def stack(request: pytest.FixtureRequest, sqlite_template: Path, tmp_path: Path) -> tuple[str, str]:
    if request.param == "sqlite":
        return fresh_sqlite_catalog(sqlite_template, tmp_path), f"sqlite:///{tmp_path / 'warehouse.db'}"
    if request.param == "mysql":
        found: tuple[str, str] = request.getfixturevalue("mysql_stack")
        return found
    need_postgres()
    catalog: str = request.getfixturevalue("pg_catalog_database")
    reset_pg_catalog(catalog)
    warehouse: str = request.getfixturevalue("pg_warehouse_database")
    reset_pg_warehouse(warehouse)
    return catalog, warehouse


def catalog_run(catalog_url: str) -> dict[str, Any] | None:
    engine = create_engine(sync_url(catalog_url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            row = conn.execute(text("SELECT id, status, accepted, duplicates, finished_at FROM ingestion_runs "
                                    "ORDER BY started_at LIMIT 1")).mappings().first()
            return dict(row) if row else None
    finally:
        engine.dispose()


def warehouse_count(warehouse_url: str, sql: str) -> int:
    engine = create_engine(sync_url(warehouse_url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(sql)).scalar_one())
    finally:
        engine.dispose()


def test_a_run_killed_mid_stream_is_interrupted_with_what_it_committed(stack: tuple[str, str],
                                                                        tmp_path: Path) -> None:
    catalog_url, warehouse_url = stack
    pg = warehouse_url.startswith("postgresql")
    target = "spyne_shadow.events__v1" if pg else "spyne_shadow__events__v1"
    checkpoints = "spyne_ingest.checkpoints" if pg else "spyne_ingest__checkpoints"
    first = ServerProcess(tmp_path, catalog_url, warehouse_url).start()
    release = threading.Event()
    outcome: dict[str, Any] = {}
    try:
        gql(first, EVENTS_CONTRACT, {"input": contract_input()})

        def body() -> Iterator[bytes]:
            yield b"".join(line(i) for i in range(2 * BATCH + BATCH // 2))  # two batches and a half
            release.wait(60)  # the stream stays open: the third batch never completes

        def send() -> None:
            try:
                outcome["response"] = httpx.post(first.url + "/ingest/events", content=body(), timeout=60,
                                                 headers={"Authorization": f"Bearer {token()}",
                                                          "Content-Type": "application/x-ndjson"})
            except httpx.HTTPError as exc:
                outcome["error"] = exc

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        deadline = time.monotonic() + 60
        while (run := catalog_run(catalog_url)) is None or run["accepted"] < 2 * BATCH:
            assert time.monotonic() < deadline, f"two batches never committed: {run}\n{first.log()}"
            time.sleep(0.05)
        first.kill()  # kill -9, mid-stream
    finally:
        release.set()
        first.kill()
    sender.join(30)
    assert "response" not in outcome, "the killed server cannot have answered"
    left = catalog_run(catalog_url)
    assert left is not None and left["status"] == "RUNNING" and left["finished_at"] is None

    with ServerProcess(tmp_path, catalog_url, warehouse_url) as second:
        deadline = time.monotonic() + 30
        while (runs := gql(second, RUNS, {"id": "events"})["ingestionRuns"])[0]["status"] == "RUNNING":
            assert time.monotonic() < deadline, "the killed run was never reconciled"
            time.sleep(0.1)
        (run,) = runs
        committed = warehouse_count(warehouse_url, f"SELECT COUNT(*) FROM {target}")
        assert committed == 2 * BATCH
        assert run["status"] == "INTERRUPTED" and run["finishedAt"] is not None
        assert (run["accepted"], run["duplicates"], run["quarantined"]) == (committed, 0, 0)
        assert any("interrupted" in e for e in run["errors"])
        assert warehouse_count(warehouse_url, f"SELECT COALESCE(SUM(accepted), 0) FROM {checkpoints} "
                                              f"WHERE operation_id = '{run['runId']}'") == committed

        metrics = httpx.get(second.url + "/metrics", headers={"Authorization": f"Bearer {token()}"}).text
        assert 'spyne_ingestion_runs_total{contract_id="events",status="INTERRUPTED"} 1.0' in metrics

        # Resending everything is exactly-once: what the killed run committed counts as duplicates.
        resent = httpx.post(second.url + "/ingest/events", content=b"".join(line(i) for i in range(TOTAL)),
                            headers={"Authorization": f"Bearer {token()}",
                                     "Content-Type": "application/x-ndjson"}, timeout=120).json()
        assert (resent["accepted"], resent["duplicates"], resent["quarantined"]) == (TOTAL - committed, committed, 0)
        assert warehouse_count(warehouse_url, f"SELECT COUNT(*) FROM {target}") == TOTAL
        runs = gql(second, RUNS, {"id": "events"})["ingestionRuns"]
        assert [r["status"] for r in runs] == ["SUCCEEDED", "INTERRUPTED"]


def _mysql(warehouse_url: str, autocommit: bool = True) -> Any:
    import pymysql

    url = make_url(warehouse_url)
    return pymysql.connect(host=url.host or "127.0.0.1", port=url.port or 3306, user=url.username or "root",
                           password=url.password or "", database=url.database, autocommit=autocommit)


def _one(conn: Any, sql: str, *params: Any) -> Any:
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchone()


def _sessions(conn: Any) -> Any:
    with conn.cursor() as cur:
        cur.execute("SELECT id, command, state, time, LEFT(info, 80) FROM information_schema.PROCESSLIST "
                    "WHERE db = DATABASE()")
        return cur.fetchall()


def test_a_server_killed_inside_a_mysql_batch_keeps_nothing_of_that_batch(mysql_stack: tuple[str, str],
                                                                         tmp_path: Path) -> None:
    """MySQL commits DDL implicitly, and a batch creates its staging table after writing its landing
    rows: the batch must still be one transaction. The third batch is held inside its transaction
    (another session holds the lock of one of its keys), the server is killed there, and exactly the
    first two batches remain — rows, landing log and checkpoints."""
    catalog_url, warehouse_url = mysql_stack
    target, landing, checkpoints = "spyne_shadow__events__v1", "spyne_ingest__landing", "spyne_ingest__checkpoints"
    first = ServerProcess(tmp_path, catalog_url, warehouse_url).start()
    release = threading.Event()
    holder = _mysql(warehouse_url, autocommit=False)
    watcher = _mysql(warehouse_url)
    try:
        gql(first, EVENTS_CONTRACT, {"input": contract_input()})
        with holder.cursor() as cur:  # uncommitted: the third batch's insert of this key waits on it
            cur.execute(f"INSERT INTO {target} (id, kind, amount, happened_at) "
                        "VALUES (25000, 'held', 1, '2025-03-01 10:00:00')")

        def body() -> Iterator[bytes]:
            yield b"".join(line(i) for i in range(3 * BATCH))
            release.wait(60)

        def send() -> None:
            with contextlib.suppress(httpx.HTTPError):
                httpx.post(first.url + "/ingest/events", content=body(), timeout=60,
                           headers={"Authorization": f"Bearer {token()}", "Content-Type": "application/x-ndjson"})

        threading.Thread(target=send, daemon=True).start()
        deadline = time.monotonic() + 60
        writer = None
        while writer is None:  # two batches committed, the third's insert into the target running
            assert time.monotonic() < deadline, (f"the third batch never reached the held key: {_sessions(watcher)}"
                                                 f"\n{first.log()}")
            time.sleep(0.05)
            run = catalog_run(catalog_url)
            if run is not None and run["accepted"] == 2 * BATCH:
                writer = _one(watcher, "SELECT id FROM information_schema.PROCESSLIST WHERE db = DATABASE() "
                                       "AND command = 'Query' AND info LIKE %s", f'INSERT INTO "{target}"%')
        # It cannot finish while the key is held: the kill lands inside the third batch's transaction,
        # after its landing rows and checkpoint claim were written.
        first.kill()  # kill -9
        holder.rollback()
        deadline = time.monotonic() + 30
        while _one(watcher, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE id = %s", writer[0])[0]:
            assert time.monotonic() < deadline, "the killed server's session never ended"
            time.sleep(0.05)
    finally:
        release.set()
        first.kill()
        holder.close()
    for table in (target, landing):
        assert _one(watcher, f"SELECT COUNT(*) FROM {table}")[0] == 2 * BATCH
    assert _one(watcher, f"SELECT COUNT(*), SUM(accepted) FROM {checkpoints}") == (2, 2 * BATCH)

    with ServerProcess(tmp_path, catalog_url, warehouse_url) as second:
        deadline = time.monotonic() + 30
        while (runs := gql(second, RUNS, {"id": "events"})["ingestionRuns"])[0]["status"] == "RUNNING":
            assert time.monotonic() < deadline, "the killed run was never reconciled"
            time.sleep(0.1)
        assert (runs[0]["status"], runs[0]["accepted"], runs[0]["duplicates"]) == ("INTERRUPTED", 2 * BATCH, 0)
        # The resend is exactly-once: the two committed batches are duplicates, the third lands.
        resent = httpx.post(second.url + "/ingest/events", content=b"".join(line(i) for i in range(3 * BATCH)),
                            headers={"Authorization": f"Bearer {token()}",
                                     "Content-Type": "application/x-ndjson"}, timeout=120).json()
        assert (resent["accepted"], resent["duplicates"], resent["quarantined"]) == (BATCH, 2 * BATCH, 0)
        assert _one(watcher, f"SELECT COUNT(*) FROM {target}")[0] == 3 * BATCH
    watcher.close()
