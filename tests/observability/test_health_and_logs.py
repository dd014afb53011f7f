"""/healthz, /readyz, JSON logs carrying the request id, and /metrics across several workers."""

from __future__ import annotations

import io
import json
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from gateway.auth import mint_dev_token
from gateway.logging import JsonFormatter, configure_logging
from gateway.store.engine import migrate
from gateway.warehouse.demo_data import DemoSummary
from tests.support.harness import DEV_SECRET, Gateway, start_gateway, stop_gateway

REPO = Path(__file__).resolve().parents[2]


async def test_healthz_needs_no_token(gateway: Gateway) -> None:
    response = await gateway.client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_readyz_is_ready_when_catalog_warehouse_and_migrations_are(gateway: Gateway) -> None:
    response = await gateway.client.get("/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ready"] is True
    assert body["checks"] == {"catalog": "ok", "warehouse": "ok", "migrations": "current"}
    assert body["warehouse"]["engine"] == "sqlite" and body["warehouse"]["dialect"] == "sqlite"
    assert "statement_timeout" in body["warehouse"]["capabilities"]


async def test_readyz_reports_pending_migrations(tmp_path: Path, demo_warehouse: DemoSummary) -> None:
    catalog = f"sqlite:///{tmp_path / 'old.db'}"
    migrate(catalog, "0001")  # only the foundation: every area's branch is pending
    gw = await start_gateway(catalog, f"sqlite:///{demo_warehouse.path}")
    try:
        response = await gw.client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["checks"]["migrations"].startswith("pending")
    finally:
        await stop_gateway(gw)


async def test_readyz_reports_an_unreachable_warehouse(catalog_url: str, tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "dir" / "warehouse.db"
    gw = await start_gateway(catalog_url, f"sqlite:///{missing}")
    try:
        response = await gw.client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["checks"]["warehouse"].startswith("unreachable")
        assert response.json()["checks"]["catalog"] == "ok"
    finally:
        await stop_gateway(gw)


async def test_one_request_id_in_the_log_line_the_audit_event_and_the_error(gateway: Gateway) -> None:
    stream = io.StringIO()
    level = logging.getLogger().level
    handler = configure_logging(logging.INFO, stream)
    try:
        headers = {"Authorization": f"Bearer {gateway.token('ADMIN')}", "x-request-id": "req-abc-123"}
        promoted = await gateway.client.post("/graphql", headers=headers, json={
            "query": 'mutation { promoteTable(table: "order_events", version: 1) { message } }'})
        assert promoted.headers["x-request-id"] == "req-abc-123"
        audit = await gateway.ok('{ auditLog(entity: "table:order_events") { events { action requestId } } }')
        assert {"action": "promoteTable", "requestId": "req-abc-123"} in audit["auditLog"]["events"]
        failed = await gateway.client.post("/graphql", headers={**headers, "x-request-id": "req-err-9"}, json={
            "query": 'mutation { promoteTable(table: "order_events", version: 1) { message } }'})
        assert failed.json()["errors"][0]["extensions"]["requestId"] == "req-err-9"
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger().setLevel(level)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    access = [line for line in lines if line["logger"] == "spyne.http"]
    assert {line["request_id"] for line in access} >= {"req-abc-123", "req-err-9"}
    assert all(line["route"] == "/graphql" and isinstance(line["duration_ms"], float) for line in access)


def test_a_log_line_is_one_json_object_with_the_exception() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.getLogger("x").makeRecord("x", logging.ERROR, __file__, 1, "failed %s", ("here",),
                                                   sys.exc_info(), extra={"table": "orders"})
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "failed here" and entry["level"] == "ERROR" and entry["table"] == "orders"
    assert "ValueError: boom" in entry["exc"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_metrics_add_up_across_two_uvicorn_workers(tmp_path: Path, demo_warehouse: DemoSummary) -> None:
    catalog = f"sqlite:///{tmp_path / 'catalog.db'}"
    migrate(catalog)
    port = _free_port()
    env = {**os.environ, "SPYNE_CATALOG_URL": catalog, "SPYNE_DEV_SECRET": DEV_SECRET.decode(),
           "SPYNE_WAREHOUSE_URL": f"sqlite:///{demo_warehouse.path}",
           "PYTHONPATH": str(REPO)}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    server = subprocess.Popen([sys.executable, "-m", "gateway.cli", "serve", "--workers", "2", "--port", str(port)],
                              cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        token = mint_dev_token(DEV_SECRET, "prom@example.com", "ENGINEER", 600)
        scraped = set()
        for _ in range(60):  # new connections each time, so both workers answer some
            with httpx.Client() as client:
                response = client.get(f"{base}/healthz")
                assert response.status_code == 200
        for _ in range(6):
            with httpx.Client() as client:
                text = client.get(f"{base}/metrics", headers={"Authorization": f"Bearer {token}"}).text
                line = next(ln for ln in text.splitlines()
                            if ln.startswith('spyne_http_requests_total{route="/healthz",status="2xx"}'))
                scraped.add(line)
        # Every scrape, whichever worker served it, counts every worker's requests (plus the
        # polls before the server was up, which happened before it could count them).
        totals = {float(line.rsplit(" ", 1)[1]) for line in scraped}
        assert totals and all(total >= 60 for total in totals), totals
        assert len(list((tmp_path / ".spyne" / "prometheus").glob("*.db"))) >= 2
    finally:
        server.terminate()
        server.wait(20)
