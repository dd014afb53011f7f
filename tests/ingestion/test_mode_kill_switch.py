"""The system mode is a kill switch even mid-stream: it is read again before every batch of an
NDJSON stream (10,000 lines), so an admin's switch to READ_ONLY stops a long stream at the next
batch boundary — nothing after it is written."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from tests.ingestion.conftest import event, register, target, warehouse_rows
from tests.support.harness import Gateway

BATCH = 10_000
RUNS = """query { ingestionRuns(contractId: "events") { status accepted errors } }"""


def lines(start: int, stop: int) -> bytes:
    return "".join(json.dumps(event(i)) + "\n" for i in range(start, stop)).encode()


async def test_switching_to_read_only_stops_a_stream_at_the_next_batch(gw: Gateway) -> None:
    await register(gw)

    async def body() -> AsyncIterator[bytes]:
        yield lines(0, BATCH + 1)  # one batch, and the first line of the next
        while True:  # wait until the first batch is committed, then an admin flips the switch
            async with gw.services.deps.uow() as uow:
                runs = await uow.ingestion.list_runs("events", 1)
            if runs and runs[0].accepted >= BATCH:
                break
            await asyncio.sleep(0.02)
        await gw.ok("mutation { setSystemMode(mode: READ_ONLY) }")
        for start in range(BATCH + 1, 30_000, 5_000):  # the rest of a 30,000-line stream
            yield lines(start, min(start + 5_000, 30_000))

    response = await gw.client.post("/ingest/events", content=body(), headers={
        "Authorization": f"Bearer {gw.token('ENGINEER')}", "Content-Type": "application/x-ndjson"})
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["code"] == "MODE_DISABLED"
    assert (error["accepted"], error["duplicates"], error["quarantined"]) == (BATCH, 0, 0)
    assert "READ_ONLY" in error["message"] and error["runId"].startswith("run_")
    assert warehouse_rows(gw, f"SELECT COUNT(*) FROM {target(gw)}") == [(BATCH,)]
    await gw.ok("mutation { setSystemMode(mode: INGESTION_READY) }")
    (run,) = (await gw.ok(RUNS, role="ENGINEER"))["ingestionRuns"]
    assert run["status"] == "FAILED" and run["accepted"] == BATCH
    assert any("switched to READ_ONLY" in e for e in run["errors"])
