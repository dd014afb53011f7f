"""`spyne serve` shuts down gracefully: SIGTERM stops new connections, lets a stream in flight
finish within ``SPYNE_SHUTDOWN_GRACE_S``, and closes one that outlasts it as INTERRUPTED."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.ingestion.test_killed_runs import (
    BATCH,
    EVENTS_CONTRACT,
    catalog_run,
    contract_input,
    gql,
    line,
    token,
)
from tests.support.databases import fresh_sqlite_catalog
from tests.support.server_process import ServerProcess

# uvicorn re-raises the signal it handled once it has shut down, so the exit is "terminated".
STOPPED = (0, -15)


def open_stream(server: ServerProcess, release: threading.Event, outcome: dict[str, Any]) -> threading.Thread:
    """An NDJSON POST that sends one batch and a half, then waits for ``release`` to send the rest."""

    def body() -> Iterator[bytes]:
        yield b"".join(line(i) for i in range(BATCH + BATCH // 2))
        release.wait(60)
        yield b"".join(line(i) for i in range(BATCH + BATCH // 2, 2 * BATCH))

    def send() -> None:
        try:
            outcome["response"] = httpx.post(server.url + "/ingest/events", content=body(), timeout=60,
                                             headers={"Authorization": f"Bearer {token()}",
                                                      "Content-Type": "application/x-ndjson"})
        except httpx.HTTPError as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread


def wait_for_first_batch(catalog_url: str, server: ServerProcess) -> None:
    deadline = time.monotonic() + 60
    while (run := catalog_run(catalog_url)) is None or run["accepted"] < BATCH:
        assert time.monotonic() < deadline, f"the first batch never committed: {run}\n{server.log()}"
        time.sleep(0.05)


@pytest.fixture
def urls(sqlite_template: Path, tmp_path: Path) -> tuple[str, str]:
    return fresh_sqlite_catalog(sqlite_template, tmp_path), f"sqlite:///{tmp_path / 'warehouse.db'}"


def test_a_stream_in_flight_finishes_and_new_connections_are_refused(urls: tuple[str, str],
                                                                     tmp_path: Path) -> None:
    catalog_url, warehouse_url = urls
    release, outcome = threading.Event(), {}  # type: ignore[var-annotated]
    with ServerProcess(tmp_path, catalog_url, warehouse_url, SPYNE_SHUTDOWN_GRACE_S="30") as server:
        gql(server, EVENTS_CONTRACT, {"input": contract_input()})
        sender = open_stream(server, release, outcome)
        try:
            wait_for_first_batch(catalog_url, server)
            assert server.process is not None
            server.process.send_signal(15)  # SIGTERM, as an orchestrator sends it
            time.sleep(1.0)
            with pytest.raises(httpx.ConnectError):  # arriving during shutdown: refused at connect
                httpx.get(server.url + "/healthz", timeout=2)
            assert server.process.poll() is None  # still finishing the stream in flight
        finally:
            release.set()
        sender.join(60)
        assert server.process.wait(timeout=30) in STOPPED
    response = outcome["response"]
    assert response.status_code == 200, response.text
    assert response.headers.get("connection") == "close"
    assert (response.json()["accepted"], response.json()["quarantined"]) == (2 * BATCH, 0)
    run = catalog_run(catalog_url)
    assert run is not None and run["status"] == "SUCCEEDED" and run["accepted"] == 2 * BATCH


def test_a_stream_that_outlasts_the_grace_period_is_interrupted(urls: tuple[str, str], tmp_path: Path) -> None:
    catalog_url, warehouse_url = urls
    release, outcome = threading.Event(), {}  # type: ignore[var-annotated]
    with ServerProcess(tmp_path, catalog_url, warehouse_url, SPYNE_SHUTDOWN_GRACE_S="1") as server:
        gql(server, EVENTS_CONTRACT, {"input": contract_input()})
        sender = open_stream(server, release, outcome)
        try:
            wait_for_first_batch(catalog_url, server)
            assert server.terminate(timeout=30) in STOPPED
        finally:
            release.set()
        sender.join(60)
    assert "response" not in outcome or outcome["response"].status_code >= 500
    run = catalog_run(catalog_url)
    assert run is not None and run["status"] == "INTERRUPTED", (run, server.log()[-3000:])
    assert run["accepted"] == BATCH and run["finished_at"] is not None
