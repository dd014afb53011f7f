"""The adapter contract, run live on every engine the gateway serves (no mocks, no planner).

Statements go straight to the adapter's read connection (``execute_read_only``, and
``open_stream`` for downloads), so every fence asserted here is the engine's own, not the planner's
— except on Spark, which has no read-only session: there the adapter's own check is the fence
(it does not declare ``read_only``), and the same statements must be refused all the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gateway.errors import TableNotFound, Timeout, WarehouseError, WarehouseUnsupported
from gateway.warehouse.contract import Capability, Warehouse
from gateway.warehouse.registry import open_warehouse
from gateway.warehouse.stream import CancelSwitch, StreamCancelled, StreamColumn
from tests.support.spark import SPARK_MARKS
from tests.support.streams import settles
from tests.warehouse.live_adapters import CONTRACT_ENGINES, ENGINES, LiveWarehouse, live_warehouse, read_url
from tests.warehouse.statements import EVIL_CSV, FENCED, OVERSIZED, ROWS_OF, RUNAWAY, STATE_PROBES

POOL_REUSE = 10  # reads after a cancel: a connection left broken in the pool would fail one of them


# How long past its deadline a runaway may take to stop. Spark cancels the statement's job group
# at the deadline; its tasks stop at their next interruption check and the Thrift status poll
# answers after that — measured 1–2.5 s, where every other engine stops within a second.
STOP_WITHIN_S = {"spark": 3.0}
# Engines that queue other queries behind a stuck one. Spark's scheduler never preempts a running
# task: in local mode the stuck query's tasks hold both cores until its deadline cancels them, and
# only then do other queries' tasks run (on a cluster, as many as it has free cores).
QUEUES_BEHIND = {"spark"}


def _engine_cases(cases: list[tuple[str, str]]) -> list[object]:
    """(engine, sql) parameters, Spark's carrying the Spark marks (one worker, one shared server)."""
    return [pytest.param(e, s, marks=SPARK_MARKS, id=f"{e}:{s[:40]}") if e == "spark"
            else pytest.param(e, s, id=f"{e}:{s[:40]}") for e, s in cases]


def _with_server(request: pytest.FixtureRequest, engine: str) -> None:
    if engine == "spark":
        request.getfixturevalue("spark_server")  # the session's shared server, up before its use


@pytest.fixture(params=CONTRACT_ENGINES)
def live(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveWarehouse]:
    _with_server(request, request.param)
    with live_warehouse(request.param, tmp_path) as found:
        yield found


@pytest.fixture(scope="module")
def shared(request: pytest.FixtureRequest) -> Iterator[Callable[[str], LiveWarehouse]]:
    """One live warehouse per engine for the whole module, for tests that must change nothing."""
    opened: dict[str, LiveWarehouse] = {}
    with contextlib.ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        def get(engine: str) -> LiveWarehouse:
            if engine not in opened:
                _with_server(request, engine)
                opened[engine] = stack.enter_context(live_warehouse(engine, Path(tmp) / engine))
            return opened[engine]

        yield get


@pytest.fixture
def warehouse(live: LiveWarehouse) -> Iterator[Warehouse]:
    opened = open_warehouse(live.url, query_url=read_url(live), statement_timeout_ms=5_000)
    try:
        yield opened
    finally:
        opened.dispose()


async def _rows(warehouse: Warehouse, sql: str) -> list[tuple[object, ...]]:
    return [tuple(r) for r in (await warehouse.execute_read_only(sql, max_rows=1000)).rows]


async def _streamed(warehouse: Warehouse, sql: str, **options: int
                    ) -> tuple[tuple[StreamColumn, ...], list[list[tuple[object, ...]]]]:
    """A streamed read to its end: the columns, and the rows batch by batch."""
    def read() -> tuple[tuple[StreamColumn, ...], list[list[tuple[object, ...]]]]:
        with warehouse.open_stream(sql, **options) as stream:
            return stream.columns, [[tuple(r) for r in batch] for batch in stream.batches()]

    return await warehouse.run(read)


# --- declaration ------------------------------------------------------------------------------


def test_the_adapter_declares_its_dialect_and_the_capabilities_every_live_engine_has(
        live: LiveWarehouse, warehouse: Warehouse) -> None:
    assert warehouse.capabilities.engine == live.engine
    assert warehouse.dialect in {"sqlite", "postgres", "duckdb", "mysql", "spark"}
    must = {Capability.INTROSPECTION, Capability.ROW_CAP, Capability.BYTE_CAP,
            Capability.STATEMENT_TIMEOUT, Capability.CANCEL, Capability.STREAMED_READS}
    assert must <= warehouse.capabilities.supported
    # read_only is the engine keeping the connection from writing: Spark has no such mode.
    assert warehouse.capabilities.has(Capability.READ_ONLY) == (live.engine != "spark")


def test_a_missing_capability_is_a_coded_refusal_naming_warehouse_and_capability(warehouse: Warehouse) -> None:
    for capability in Capability:
        if not warehouse.capabilities.has(capability):
            with pytest.raises(WarehouseUnsupported) as refused:
                warehouse.require(capability)
            assert refused.value.extensions == {"warehouse": warehouse.capabilities.engine,
                                                "capability": capability.value}
        else:
            warehouse.require(capability)


# --- introspection ----------------------------------------------------------------------------


async def test_introspection_gives_columns_types_nullability_keys_and_row_count(
        warehouse: Warehouse, live: LiveWarehouse) -> None:
    orders = await warehouse.introspect("orders")
    columns = {c.name: c for c in orders.columns}
    assert list(columns) == ["id", "customer_id", "amount", "note"]
    assert columns["id"].primary_key == live.constraints
    assert [c.nullable for c in columns.values()] == ([False, False, True, True] if live.constraints else [True] * 4)
    assert "INT" in columns["id"].type
    assert any(t in columns["amount"].type for t in ("DECIMAL", "NUMERIC"))
    assert [(fk.columns, fk.referred_table.rpartition(".")[2], fk.referred_columns)
            for fk in orders.foreign_keys] == ([(("customer_id",), "customers", ("id",))] if live.constraints else [])
    assert orders.row_count == 3


async def test_introspecting_a_missing_table_is_table_not_found(warehouse: Warehouse) -> None:
    with pytest.raises(TableNotFound):
        await warehouse.introspect("no_such_table")


# --- the read fence ---------------------------------------------------------------------------


def _fenced_cases() -> list[object]:
    return _engine_cases([(engine, sql) for engine in (*ENGINES, "spark") for sql in FENCED[engine]])


@pytest.mark.parametrize(("engine", "sql"), _fenced_cases())
async def test_the_engine_refuses_writes_files_extensions_and_session_changes(
        engine: str, sql: str, shared: Callable[[str], LiveWarehouse]) -> None:
    live = shared(engine)
    warehouse = open_warehouse(live.url, query_url=read_url(live))
    try:
        probes = ("SELECT COUNT(*) FROM customers", "SELECT COUNT(*) FROM orders", *STATE_PROBES[engine])
        before = [live.direct(probe) for probe in probes]
        with pytest.raises(WarehouseError) as refused:
            await warehouse.execute_read_only(sql, max_rows=10)
        assert type(refused.value) is WarehouseError
        with pytest.raises(WarehouseError) as refused:  # a download's read is fenced the same way
            await _streamed(warehouse, sql)
        assert type(refused.value) is WarehouseError
        # Nothing changed, and the pooled read connection is as fenced as before.
        assert [live.direct(probe) for probe in probes] == before
        assert await _rows(warehouse, "SELECT name FROM customers WHERE id = 1") == [("Ada",)]
        with pytest.raises(WarehouseError):
            await warehouse.execute_read_only("DELETE FROM orders", max_rows=10)
    finally:
        warehouse.dispose()
    assert not Path(EVIL_CSV).exists()


# --- timeout and cancel -----------------------------------------------------------------------


def _runaway_cases() -> list[object]:
    return _engine_cases([(engine, sql) for engine in (*ENGINES, "spark") for sql in RUNAWAY[engine]])


@pytest.mark.parametrize(("engine", "sql"), _runaway_cases())
async def test_a_runaway_query_stops_within_a_second_of_its_deadline_and_the_connection_serves_again(
        engine: str, sql: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    _with_server(request, engine)
    with live_warehouse(engine, tmp_path) as live:
        warehouse = open_warehouse(live.url, query_url=read_url(live))
        try:
            started = time.monotonic()
            with pytest.raises(Timeout):
                await warehouse.execute_read_only(sql, max_rows=10, timeout_ms=300)
            assert time.monotonic() - started < 0.3 + STOP_WITHIN_S.get(engine, 1.0)
            with pytest.raises(Timeout):  # streamed (a download): the same deadline stops it
                await _streamed(warehouse, sql, timeout_ms=300)
            # The interrupted connection went back to the pool; its next user is not interrupted.
            for _ in range(3):
                assert await _rows(warehouse, "SELECT COUNT(*) FROM orders") == [(3,)]
                assert (await _streamed(warehouse, "SELECT COUNT(*) FROM orders"))[1] == [[(3,)]]
        finally:
            warehouse.dispose()


@pytest.mark.parametrize(("engine", "sql"), [(e, s) for e in ENGINES for s in OVERSIZED.get(e, ())])
async def test_one_call_that_would_build_a_huge_value_stops_at_once_with_a_coded_error(
        engine: str, sql: str, tmp_path: Path) -> None:
    with live_warehouse(engine, tmp_path) as live:
        warehouse = open_warehouse(live.url, query_url=read_url(live), max_result_bytes=10_000_000)
        try:
            started = time.monotonic()
            with pytest.raises(WarehouseError) as refused:
                await warehouse.execute_read_only(sql, max_rows=10, timeout_ms=300)
            assert "byte cap" in refused.value.message
            assert time.monotonic() - started < 0.3 + 1.0
        finally:
            warehouse.dispose()


async def test_other_queries_run_while_one_is_stuck_until_its_deadline(warehouse: Warehouse,
                                                                       live: LiveWarehouse) -> None:
    started = time.monotonic()
    for _ in range(5):  # the same queries with nothing stuck: what they cost on this engine
        assert await _rows(warehouse, "SELECT COUNT(*) FROM customers") == [(3,)]
    idle = time.monotonic() - started
    stuck = asyncio.ensure_future(warehouse.execute_read_only(RUNAWAY[live.engine][0], max_rows=1,
                                                               timeout_ms=1500))
    await asyncio.sleep(0.1)
    started = time.monotonic()
    for _ in range(5):
        assert await _rows(warehouse, "SELECT COUNT(*) FROM customers") == [(3,)]
    if live.engine in QUEUES_BEHIND:
        # The engine itself made them wait for the stuck query's deadline, then they answered.
        assert time.monotonic() - started < 1.5 + STOP_WITHIN_S.get(live.engine, 1.0) + 2 * idle
    else:
        assert time.monotonic() - started < 1.0 + 2 * idle
        assert not stuck.done()  # they ran beside it, not after it
    with pytest.raises(Timeout):
        await stuck


# --- streamed reads (downloads) -----------------------------------------------------------------


async def test_a_stream_gives_every_row_in_batches_with_the_engines_column_types(
        warehouse: Warehouse, live: LiveWarehouse) -> None:
    sql = "SELECT o.id, o.amount, c.name FROM orders o JOIN customers c ON c.id = o.customer_id ORDER BY o.id"
    columns, batches = await _streamed(warehouse, sql, batch_rows=2)
    assert [c.name for c in columns] == ["id", "amount", "name"]
    assert [len(b) for b in batches] == [2, 1]
    assert [r for b in batches for r in b] == [tuple(r) for r in live.direct(sql)]
    if live.engine != "sqlite":  # SQLite types each value; the others say the column's type
        assert [(c.kind, c.precision, c.scale) for c in columns] == [
            ("INT32", None, None), ("DECIMAL", 10, 2), ("TEXT", None, None)]
    many = ROWS_OF[live.engine](50_000, 10)
    _, batches = await _streamed(warehouse, many, batch_rows=20_000)
    assert [len(b) for b in batches] == [20_000, 20_000, 10_000]


async def test_a_cancelled_stream_stops_its_statement_and_the_pool_serves_again(
        warehouse: Warehouse, live: LiveWarehouse) -> None:
    # Spark computes a result whole before the first fetch: a smaller one, still many batches.
    rows = 50_000 if live.engine == "spark" else 5_000_000
    stream = await warehouse.run(lambda: warehouse.open_stream(ROWS_OF[live.engine](rows, 100), batch_rows=1_000))
    try:
        batches = stream.batches()
        assert len(await warehouse.run(lambda: next(batches))) == 1_000
        stream.cancel()  # what the download does when its reader goes away (from another thread)
        with pytest.raises(StreamCancelled):
            await warehouse.run(lambda: next(batches))
    finally:
        await warehouse.run(stream.close)
    running = live.running
    if running is not None:  # Spark's server cannot be asked; test_spark.py checks it stays responsive
        assert settles(lambda: running() == 0)  # nothing of it left on the server (KILL, close)
    for _ in range(POOL_REUSE):
        assert await _rows(warehouse, "SELECT COUNT(*) FROM orders") == [(3,)]
        assert (await _streamed(warehouse, "SELECT COUNT(*) FROM customers"))[1] == [[(3,)]]


async def test_a_stream_cancelled_before_its_first_rows_stops_its_statement(
        warehouse: Warehouse, live: LiveWarehouse) -> None:
    # A download's reader may go away while its query is still opening (a runaway has no first row):
    # the switch reaches the stream from before open_stream returns, whichever phase does the work.
    switch = CancelSwitch()

    def first_rows() -> object:
        with warehouse.open_stream(RUNAWAY[live.engine][0], switch=switch) as stream:
            return next(stream.batches(), [])

    opening = asyncio.ensure_future(warehouse.run(first_rows))
    await asyncio.sleep(0.5)
    cancelled = time.monotonic()
    switch.cancel()
    with pytest.raises(StreamCancelled):
        await opening  # not the TIMEOUT of the warehouse fixture's 5 s
    assert time.monotonic() - cancelled < STOP_WITHIN_S.get(live.engine, 1.0)
    already = CancelSwitch()
    already.cancel()
    with pytest.raises(StreamCancelled):  # cancelled before it opened: the statement never starts
        await warehouse.run(lambda: warehouse.open_stream("SELECT COUNT(*) FROM orders", switch=already))
    running = live.running
    if running is not None:
        assert settles(lambda: running() == 0)
    for _ in range(POOL_REUSE):
        assert await _rows(warehouse, "SELECT COUNT(*) FROM orders") == [(3,)]


# --- row and byte caps ------------------------------------------------------------------------


async def test_the_row_cap_truncates_and_says_so(warehouse: Warehouse, live: LiveWarehouse) -> None:
    result = await warehouse.execute_read_only(ROWS_OF[live.engine](50, 10), max_rows=20)
    assert len(result.rows) == 20 and result.truncated
    whole = await warehouse.execute_read_only(ROWS_OF[live.engine](20, 10), max_rows=20)
    assert len(whole.rows) == 20 and not whole.truncated


async def test_the_byte_cap_truncates_at_a_whole_row_and_says_so(warehouse: Warehouse,
                                                                 live: LiveWarehouse) -> None:
    result = await warehouse.execute_read_only(ROWS_OF[live.engine](60, 1000), max_rows=1000,
                                               max_bytes=10_000)
    assert result.truncated and 5 <= len(result.rows) < 10
    assert result.bytes <= 10_000
    assert all(len(r[1]) == 1000 for r in result.rows)
    small = await warehouse.execute_read_only(ROWS_OF[live.engine](5, 1000), max_rows=1000, max_bytes=10_000)
    assert not small.truncated and len(small.rows) == 5


# --- concurrency ------------------------------------------------------------------------------


async def test_concurrent_queries_each_get_their_own_answer(warehouse: Warehouse) -> None:
    async def one(i: int) -> list[tuple[object, ...]]:
        return await _rows(warehouse, f"SELECT id FROM customers WHERE id = {1 + i % 3}")

    answers = await asyncio.gather(*(one(i) for i in range(24)))
    assert answers == [[(1 + i % 3,)] for i in range(24)]


# --- down and back ----------------------------------------------------------------------------


async def test_an_unreachable_warehouse_is_a_coded_error_quickly(live: LiveWarehouse, tmp_path: Path) -> None:
    warehouse = open_warehouse(live.unreachable)
    try:
        started = time.monotonic()
        with pytest.raises(WarehouseError):
            await warehouse.ping()
        with pytest.raises(WarehouseError):
            await warehouse.execute_read_only("SELECT 1", max_rows=1)
        assert time.monotonic() - started < 15
    finally:
        warehouse.dispose()


async def test_a_warehouse_that_goes_down_answers_coded_errors_and_serves_again_when_back(
        warehouse: Warehouse, live: LiveWarehouse) -> None:
    assert await _rows(warehouse, "SELECT COUNT(*) FROM orders") == [(3,)]
    live.down()
    try:
        started = time.monotonic()
        with pytest.raises(WarehouseError):
            await warehouse.ping()
        with pytest.raises(WarehouseError):
            await warehouse.execute_read_only("SELECT COUNT(*) FROM orders", max_rows=1)
        assert time.monotonic() - started < 15
    finally:
        live.back()
    await warehouse.ping()
    assert await _rows(warehouse, "SELECT COUNT(*) FROM orders") == [(3,)]
