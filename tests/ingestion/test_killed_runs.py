"""A run whose server is killed mid-stream (``kill -9`` of a live uvicorn) is reconciled.

On each warehouse (SQLite, PostgreSQL): a real ``spyne serve`` process lands an NDJSON stream;
after two batches have committed it is killed while the stream is still open. The catalog still
says RUNNING (a killed process writes nothing more). A new server, at start-up, finds the run's
process gone and closes the run as INTERRUPTED with exactly what its committed batches hold;
``ingestionRuns`` and ``/metrics`` show it; sending the whole stream again is exactly-once.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from gateway.auth import mint_dev_token
from gateway.store.engine import sync_url
from tests.ingestion.conftest import EVENTS_CONTRACT, contract_input, reset_pg_warehouse
from tests.support.databases import fresh_sqlite_catalog, need_postgres, reset_pg_catalog
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


@pytest.fixture(params=["sqlite", "postgres"])
def stack(request: pytest.FixtureRequest, sqlite_template: Path, tmp_path: Path) -> tuple[str, str]:
    if request.param == "sqlite":
        return fresh_sqlite_catalog(sqlite_template, tmp_path), f"sqlite:///{tmp_path / 'warehouse.db'}"
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
