"""Which RUNNING runs are dead, and what reconciliation writes for them (in-process; the kill -9 of
a real server is in ``test_killed_runs``)."""

from __future__ import annotations

import re
import socket
import subprocess
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from gateway.store.engine import sync_url
from tests.ingestion.conftest import event, ingest, register
from tests.support.harness import Gateway

RUNS = """query { ingestionRuns(contractId: "events") { runId status accepted duplicates quarantined
  finishedAt errors } }"""


def pretend_running(gw: Gateway, run_id: str, owner: str, heartbeat: datetime) -> None:
    """Make a finished run look like one a process is (or was) still landing."""
    engine = create_engine(sync_url(gw.settings.catalog_url), poolclass=NullPool)
    with engine.begin() as conn:
        conn.execute(text("UPDATE ingestion_runs SET status = 'RUNNING', finished_at = NULL, accepted = 0, "
                          "duplicates = 0, quarantined = 0, owner = :owner, heartbeat_at = :hb WHERE id = :id"),
                     {"owner": owner, "hb": heartbeat, "id": run_id})
    engine.dispose()


def dead_local_owner() -> str:
    probe = subprocess.Popen(["true"])
    probe.wait()
    return f"{socket.gethostname()}:{probe.pid}:1"


async def landed_run(gw: Gateway) -> dict[str, object]:
    await register(gw)
    result = await ingest(gw, [event(1), event(2), event(2), {"id": "x"}])
    assert (result["accepted"], result["duplicates"], result["quarantined"]) == (2, 1, 1)
    return result


async def test_a_run_of_another_host_past_its_lease_is_interrupted_with_its_committed_counts(gw: Gateway) -> None:
    result = await landed_run(gw)
    long_ago = datetime.now(UTC) - timedelta(minutes=10)
    pretend_running(gw, str(result["runId"]), "another-host:4242:99", long_ago)
    (run,) = (await gw.ok(RUNS, role="ENGINEER"))["ingestionRuns"]
    assert run["status"] == "INTERRUPTED" and run["finishedAt"] is not None
    assert (run["accepted"], run["duplicates"], run["quarantined"]) == (2, 1, 1)  # from its checkpoints
    assert any(e.startswith("interrupted") for e in run["errors"])
    dashboard = await gw.client.get("/dashboard", headers={"Authorization": f"Bearer {gw.token('ADMIN')}"})
    section = re.search(r'id="panel-ingestion_runs".*?</section>', dashboard.text, re.S)
    assert section and 'data-label="INTERRUPTED"' in section.group(0)


async def test_a_run_with_a_fresh_heartbeat_elsewhere_is_left_running(gw: Gateway) -> None:
    result = await landed_run(gw)
    pretend_running(gw, str(result["runId"]), "another-host:4242:99", datetime.now(UTC))
    (run,) = (await gw.ok(RUNS, role="ENGINEER"))["ingestionRuns"]
    assert run["status"] == "RUNNING"
    assert await gw.services.ingestion.liveness.reconcile() == []


async def test_a_run_whose_process_on_this_host_is_gone_is_interrupted_at_once(gw: Gateway) -> None:
    result = await landed_run(gw)
    pretend_running(gw, str(result["runId"]), dead_local_owner(), datetime.now(UTC))  # fresh heartbeat
    closed = await gw.services.ingestion.liveness.reconcile()
    assert [r.id for r in closed] == [result["runId"]]
    assert await gw.services.ingestion.liveness.reconcile() == []  # closed once
    (run,) = (await gw.ok(RUNS, role="ENGINEER"))["ingestionRuns"]
    assert run["status"] == "INTERRUPTED" and run["accepted"] == 2


async def test_a_run_taken_for_dead_that_beats_again_is_running_again(gw: Gateway) -> None:
    result = await landed_run(gw)
    run_id = str(result["runId"])
    pretend_running(gw, run_id, "another-host:4242:99", datetime.now(UTC) - timedelta(hours=1))
    assert [r.id for r in await gw.services.ingestion.liveness.reconcile()] == [run_id]
    liveness = gw.services.ingestion.liveness
    async with liveness.landing(run_id):  # its process was only cut off from the catalog
        await liveness.progress(run_id, None)
        (run,) = (await gw.ok(RUNS, role="ENGINEER"))["ingestionRuns"]
        assert run["status"] == "RUNNING" and run["finishedAt"] is None
