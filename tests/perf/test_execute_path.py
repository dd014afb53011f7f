"""The execute path's shortcuts keep every check: the recent-previews copy, the epoch read, ownership."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gateway.services.demo import load_demo_catalog
from gateway.warehouse.demo_data import DemoSummary
from tests.support.harness import Gateway, start_gateway, stop_gateway

PREVIEW = "mutation($s: String!) { previewQuery(input: {sql: $s}) { id } }"
EXECUTE = "mutation($id: ID!) { executeQuery(previewId: $id) { rowCount rows } }"
SQL = "SELECT COUNT(*) AS n FROM orders"


@pytest.fixture
async def two_workers(catalog_url: str, demo_warehouse: DemoSummary) -> AsyncIterator[tuple[Gateway, Gateway]]:
    """Two app instances on one catalog, as two uvicorn workers would be."""
    warehouse = f"sqlite:///{demo_warehouse.path}"
    first = await start_gateway(catalog_url, warehouse)
    second = await start_gateway(catalog_url, warehouse)
    try:
        await load_demo_catalog(first.services.deps, demo_warehouse)
        yield first, second
    finally:
        await stop_gateway(first)
        await stop_gateway(second)


async def preview(gw: Gateway, role: str = "ANALYST") -> str:
    return str((await gw.ok(PREVIEW, {"s": SQL}, role=role))["previewQuery"]["id"])


async def test_a_preview_runs_on_the_worker_that_stored_it_and_on_another(two_workers: tuple[Gateway, Gateway]) -> None:
    first, second = two_workers
    preview_id = await preview(first)
    here = (await first.ok(EXECUTE, {"id": preview_id}, role="ANALYST"))["executeQuery"]
    there = (await second.ok(EXECUTE, {"id": preview_id}, role="ANALYST"))["executeQuery"]
    assert here == there and here["rowCount"] == 1
    again = (await second.ok(EXECUTE, {"id": preview_id}, role="ANALYST"))["executeQuery"]  # now known there too
    assert again == here


async def test_stale_at_once_after_a_change_made_through_another_worker(two_workers: tuple[Gateway, Gateway]) -> None:
    first, second = two_workers
    preview_id = await preview(first)
    await first.ok(EXECUTE, {"id": preview_id}, role="ANALYST")  # the epoch was just read here
    await second.ok('mutation { deprecateTable(table: "orders", version: 2) { table { name } } }', role="ADMIN")
    assert await first.error_code(EXECUTE, {"id": preview_id}, role="ANALYST") == "STALE_PREVIEW"


async def test_someone_elses_known_preview_still_reads_as_missing(two_workers: tuple[Gateway, Gateway]) -> None:
    first, _ = two_workers
    preview_id = await preview(first, role="ANALYST")
    assert await first.error_code(EXECUTE, {"id": preview_id}, role="VIEWER") == "PREVIEW_NOT_FOUND"
    assert (await first.ok(EXECUTE, {"id": preview_id}, role="ADMIN"))["executeQuery"]["rowCount"] == 1


async def test_every_execution_is_recorded_before_its_result_returns(two_workers: tuple[Gateway, Gateway]) -> None:
    first, second = two_workers
    preview_id = await preview(first)
    for _ in range(3):
        await first.ok(EXECUTE, {"id": preview_id}, role="ANALYST")
    async with second.services.deps.uow() as uow:
        executions = [e for e in await uow.queries.executions() if e["preview_id"] == preview_id]
    assert [e["status"] for e in executions] == ["OK"] * 3
