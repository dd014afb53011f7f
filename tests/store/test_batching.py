"""Group commit and shared reads: concurrent callers share a transaction, and lose nothing by it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from gateway.errors import CatalogUnavailable, Conflict
from gateway.store.batching import GroupCommit, SharedRead
from gateway.store.engine import create_catalog_engine, create_sync_catalog_engine, sync_url
from gateway.store.queries import NewExecution, StoredPreview, insert_query_records
from gateway.store.system import read_epoch
from gateway.store.unit_of_work import UnitOfWorkFactory
from tests.support.harness import Gateway

NOW = datetime(2026, 12, 1, tzinfo=UTC)
Record = StoredPreview | NewExecution


def preview(preview_id: str | None = None) -> StoredPreview:
    return StoredPreview(id=preview_id or str(uuid.uuid4()), author="a@example.com", author_role="ANALYST",
                         original_sql="SELECT 1", dialect="sqlite", pins=(), plan={"sql": "SELECT 1"},
                         catalog_epoch=1, parent_id=None, skip_reason=None, created_at=NOW,
                         expires_at=NOW + timedelta(hours=1))


def execution(preview_id: str, request_id: str) -> NewExecution:
    return NewExecution(preview_id=preview_id, actor="a@example.com", role="ANALYST", sql="SELECT 1", status="OK",
                        error_code=None, row_count=1, elapsed_ms=0.5, tables=[], joins=[], overrides=[],
                        skip_reason=None, request_id=request_id, at=NOW)


def factory(url: str) -> UnitOfWorkFactory:
    return UnitOfWorkFactory(create_catalog_engine(url), create_sync_catalog_engine(url))


def count(url: str, sql: str) -> int:
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(sql)).scalar_one())
    finally:
        engine.dispose()


class CountingWrite:
    def __init__(self) -> None:
        self.batches: list[int] = []

    def __call__(self, session: Session, records: Sequence[Record]) -> list[int | None]:
        self.batches.append(len(records))
        return insert_query_records(session, records)


async def test_concurrent_records_share_a_transaction_and_each_gets_its_own_id(catalog_url: str) -> None:
    uow = factory(catalog_url)
    write = CountingWrite()
    log: GroupCommit[Record, int | None] = GroupCommit(uow, write)
    try:
        stored = preview()
        assert await log.submit(stored) is None  # alone: a batch of one, nothing waits to fill it
        results = await asyncio.gather(*(log.submit(execution(stored.id, f"r{i}")) for i in range(40)),
                                       log.submit(preview()))
    finally:
        await uow.dispose()
    assert write.batches[0] == 1 and sum(write.batches) == 42 and len(write.batches) <= 3
    ids = results[:40]
    assert results[40] is None and len(set(ids)) == 40
    engine = create_engine(sync_url(catalog_url))
    with engine.connect() as conn:
        by_request = dict(conn.execute(text("SELECT request_id, id FROM query_executions")).all())
    engine.dispose()
    assert [by_request[f"r{i}"] for i in range(40)] == ids  # each caller got the id of its own row
    assert count(catalog_url, "SELECT COUNT(*) FROM query_previews") == 2


async def test_a_bad_record_fails_its_own_caller_only(catalog_url: str) -> None:
    uow = factory(catalog_url)
    write = CountingWrite()
    log: GroupCommit[Record, int | None] = GroupCommit(uow, write)
    taken = preview()
    try:
        await log.submit(taken)
        outcomes = await asyncio.gather(log.submit(preview()), log.submit(preview(taken.id)), log.submit(preview()),
                                        return_exceptions=True)
    finally:
        await uow.dispose()
    assert outcomes[0] is None and outcomes[2] is None
    assert isinstance(outcomes[1], Conflict)  # the same preview id twice
    assert write.batches == [1, 3, 1, 1, 1]  # the failed batch, then each of its records alone
    assert count(catalog_url, "SELECT COUNT(*) FROM query_previews") == 3


async def test_an_unreachable_catalog_fails_the_whole_batch_at_once() -> None:
    url = "postgresql://postgres@127.0.0.1:1/nowhere"  # nothing listens on port 1
    uow = factory(url)
    write = CountingWrite()
    log: GroupCommit[Record, int | None] = GroupCommit(uow, write)
    try:
        outcomes = await asyncio.gather(*(log.submit(preview()) for _ in range(5)), return_exceptions=True)
        with pytest.raises(CatalogUnavailable):
            await uow.transaction(read_epoch)
    finally:
        await uow.dispose()
    assert all(isinstance(o, CatalogUnavailable) for o in outcomes)
    assert write.batches in ([], [5])  # tried as one batch at most, never again row by row


async def test_a_shared_read_is_never_one_that_started_before_the_caller_asked() -> None:
    started: list[int] = []
    release = asyncio.Event()

    async def read() -> int:
        started.append(len(started) + 1)
        await release.wait()
        return started[-1]

    shared = SharedRead(read)
    first = asyncio.create_task(shared())
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert started == [1]  # read 1 is under way
    later = [asyncio.create_task(shared()) for _ in range(10)]
    await asyncio.sleep(0)
    release.set()
    assert await first == 1
    assert [await t for t in later] == [2] * 10  # they asked during read 1, so they share read 2
    assert started == [1, 2]


async def test_a_caller_that_goes_away_does_not_cancel_the_read_others_wait_for() -> None:
    release = asyncio.Event()

    async def read() -> str:
        await release.wait()
        return "epoch"

    shared = SharedRead(read)
    impatient, patient = asyncio.create_task(shared()), asyncio.create_task(shared())
    await asyncio.sleep(0)
    impatient.cancel()
    release.set()
    assert await patient == "epoch"
    assert impatient.cancelled()


async def test_concurrent_executions_through_graphql_are_each_recorded(gateway: Gateway) -> None:
    preview_id = (await gateway.ok('mutation { previewQuery(input: {sql: "SELECT id FROM customers LIMIT 3"}) '
                                   '{ id } }', role="ANALYST"))["previewQuery"]["id"]
    execute = "mutation($id: ID!) { executeQuery(previewId: $id) { executionId rowCount } }"
    answers = await asyncio.gather(*(gateway.ok(execute, {"id": preview_id}, role="ANALYST") for _ in range(25)))
    ids = {a["executeQuery"]["executionId"] for a in answers}
    assert len(ids) == 25 and all(a["executeQuery"]["rowCount"] == 3 for a in answers)
    recorded = count(gateway.settings.catalog_url,
                     f"SELECT COUNT(*) FROM query_executions WHERE preview_id = '{preview_id}' AND status = 'OK'")
    assert recorded == 25
