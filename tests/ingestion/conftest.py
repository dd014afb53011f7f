"""A gateway over a writable warehouse of its own: a SQLite file per test, or (with the PostgreSQL
catalog) a throwaway PostgreSQL database, emptied between tests. The system starts INGESTION_READY."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from gateway.domain import SystemMode
from gateway.store.engine import sync_url
from tests.support.databases import create_pg_database, drop_pg_database
from tests.support.harness import Gateway, start_gateway, stop_gateway

EVENTS_CONTRACT = """mutation($input: RegisterContractInput!) { registerContract(input: $input) {
  id table version state warnings columns { name type nullable }
  ingestionSemantics { mode idempotencyKey eventTimeColumn processingTimeColumn dedupeWindow conflictResolution }
  versions { version state physicalName } } }"""

INGEST = """mutation($id: String!, $records: [JSON!]!) { ingest(contractId: $id, records: $records) {
  runId accepted duplicates quarantined errors } }"""


def contract_input(table: str = "events", *, mode: str = "upsert", conflict: str = "latest_wins",
                   window: str = "24h", **extra: Any) -> dict[str, Any]:
    return {
        "table": table,
        "columns": [
            {"name": "id", "type": "BIGINT", "nullable": False},
            {"name": "kind", "type": "VARCHAR(32)"},
            {"name": "amount", "type": "DOUBLE"},
            {"name": "happened_at", "type": "TIMESTAMP", "nullable": False},
            {"name": "loaded_at", "type": "TIMESTAMP"},
        ],
        "ingestionSemantics": {"mode": mode, "idempotencyKey": ["id"], "eventTimeColumn": "happened_at",
                               "processingTimeColumn": "loaded_at", "dedupeWindow": window,
                               "conflictResolution": conflict},
        **extra,
    }


def event(i: int, *, kind: str = "click", amount: float = 1.5, at: str = "2025-03-01T10:00:00Z") -> dict[str, Any]:
    return {"id": i, "kind": kind, "amount": amount, "happened_at": at}


@pytest.fixture(scope="session")
def pg_warehouse_database() -> Iterator[str]:
    url = create_pg_database("spyne_test_wh")
    try:
        yield url
    finally:
        drop_pg_database(url)


def reset_pg_warehouse(url: str) -> None:
    engine = create_engine(sync_url(url), poolclass=NullPool)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS spyne_shadow CASCADE"))
        conn.execute(text("DROP SCHEMA IF EXISTS spyne_ingest CASCADE"))
        conn.execute(text("DROP TABLE IF EXISTS public.source_events"))
    engine.dispose()


@pytest.fixture
def warehouse_url(catalog_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if catalog_url.startswith("postgresql"):
        url: str = request.getfixturevalue("pg_warehouse_database")
        reset_pg_warehouse(url)
        return url
    return f"sqlite:///{tmp_path / 'warehouse.db'}"


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    path = tmp_path / "archive"
    path.mkdir()
    return path


@pytest.fixture
async def gw(catalog_url: str, warehouse_url: str, archive: Path) -> AsyncIterator[Gateway]:
    gateway = await start_gateway(catalog_url, warehouse_url, initial_mode=SystemMode.INGESTION_READY,
                                  archive_dir=str(archive))
    try:
        yield gateway
    finally:
        await stop_gateway(gateway)


def warehouse_rows(gateway: Gateway, sql: str) -> list[tuple[Any, ...]]:
    with gateway.services.deps.warehouse.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


def target(gateway: Gateway, table: str = "events", version: int = 1) -> str:
    pg = gateway.services.deps.warehouse.backend == "postgresql"
    return f"spyne_shadow.{table}__v{version}" if pg else f"spyne_shadow__{table}__v{version}"


async def register(gateway: Gateway, **kwargs: Any) -> dict[str, Any]:
    data = await gateway.ok(EVENTS_CONTRACT, {"input": contract_input(**kwargs)}, role="ENGINEER")
    return data["registerContract"]


async def ingest(gateway: Gateway, records: list[Any], contract: str = "events") -> dict[str, Any]:
    data = await gateway.ok(INGEST, {"id": contract, "records": records}, role="ENGINEER")
    return data["ingest"]
