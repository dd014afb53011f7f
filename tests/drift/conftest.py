"""A gateway over a writable warehouse of the drift tests' own, altered for real between refreshes:
a SQLite file per test with the SQLite catalog, a throwaway PostgreSQL database with the
PostgreSQL catalog."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from gateway.store.engine import sync_url
from tests.support.databases import create_pg_database, drop_pg_database
from tests.support.harness import Gateway, start_gateway, stop_gateway

REPORT_FIELDS = """id table contractId source fromVersion toVersion fromSchemaVersion toSchemaVersion
  severity migrationGuide versionRule detectedBy detectedAt resolved resolvedAt resolvedBy note
  changes { type column oldColumn newColumn oldType newType severity reason confidence undecided againstVersion }"""
REFRESH = "mutation($t: String!) { refreshSchema(table: $t) { " + REPORT_FIELDS + " } }"
REGISTER = """mutation($n: String!, $p: String!) { registerTable(input: {name: $n, physicalName: $p}) {
  name versions { version schemaVersion } } }"""
REPORTS = """query($t: String, $c: String, $s: DriftSeverity, $u: Boolean! = false) {
  driftReports(table: $t, contractId: $c, severity: $s, unresolvedOnly: $u) { """ + REPORT_FIELDS + " } }"


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@dataclass
class Warehouse:
    url: str
    backend: str  # "sqlite" | "postgres"

    def run(self, *statements: str) -> None:
        engine = create_engine(sync_url(self.url), poolclass=NullPool)
        with engine.begin() as conn:
            for sql in statements:
                conn.execute(text(sql))
        engine.dispose()

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        engine = create_engine(sync_url(self.url), poolclass=NullPool)
        with engine.connect() as conn:
            out = [tuple(r) for r in conn.execute(text(sql))]
        engine.dispose()
        return out

    def create_customers(self, name: str = "customers", rows: int = 40) -> None:
        self.run(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, customer_name TEXT NOT NULL, "
                 "email TEXT, age INTEGER, city TEXT, code TEXT)")
        values = ", ".join(
            f"({i}, 'Customer {i:03d}', 'c{i}@example.com', {20 + i % 50}, 'City {i % 7}', "
            f"'{'X' * (2 + i % 5)}')" for i in range(1, rows + 1))
        self.run(f"INSERT INTO {name} VALUES {values}")

    def retype(self, table: str, column: str, new_type: str) -> None:
        """PostgreSQL alters the column; SQLite has no ALTER COLUMN TYPE, so the table is rebuilt."""
        if self.backend == "postgres":
            self.run(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE {new_type}")
            return
        info = self.rows(f"PRAGMA table_info({table})")
        defs = []
        for _, name, typ, notnull, _default, pk in info:
            typ = new_type if name == column else typ
            defs.append(f"{name} {typ}" + (" PRIMARY KEY" if pk else "") + (" NOT NULL" if notnull and not pk else ""))
        names = ", ".join(r[1] for r in info)
        self.run(f"CREATE TABLE {table}__rebuild ({', '.join(defs)})",
                 f"INSERT INTO {table}__rebuild ({names}) SELECT {names} FROM {table}",
                 f"DROP TABLE {table}", f"ALTER TABLE {table}__rebuild RENAME TO {table}")


@pytest.fixture
def warehouse(catalog_url: str, tmp_path: Path) -> Iterator[Warehouse]:
    if catalog_url.startswith("sqlite"):
        yield Warehouse(f"sqlite:///{tmp_path / 'warehouse.db'}", "sqlite")
        return
    url = create_pg_database("spyne_drift_wh")
    try:
        yield Warehouse(url, "postgres")
    finally:
        drop_pg_database(url)


@pytest.fixture
async def gw(catalog_url: str, warehouse: Warehouse) -> AsyncIterator[Gateway]:
    warehouse.create_customers()
    gateway = await start_gateway(catalog_url, warehouse.url)
    try:
        await gateway.ok(REGISTER, {"n": "customers", "p": "customers"})
        yield gateway
    finally:
        await stop_gateway(gateway)


async def refresh(gw: Gateway, table: str = "customers", role: str = "ENGINEER") -> dict[str, Any]:
    return (await gw.ok(REFRESH, {"t": table}, role=role))["refreshSchema"]


def by_type(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in report["changes"]}
