"""Nothing changed: row counts of every warehouse table and every catalog table, before and after.

The warehouse side lists every table the admin connection can see (every schema on PostgreSQL,
``sqlite_master`` on SQLite), so a table created by an attack shows up as a new key, a dropped
one as a missing key. The catalog side counts every table of the catalog store. Nothing is
excluded: a refused request stores no preview, no execution and no audit event, so even the
append-only tables (``audit_events``, ``query_previews``, ``query_executions``) must stay put; a
case where a refusal legitimately records something (an ingestion run) names the table and the
exact number of rows it may gain.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.pool import NullPool

from gateway.store.engine import sync_url
from tests.support.harness import Gateway

SYSTEM_SCHEMAS = frozenset({"information_schema", "pg_catalog", "pg_toast"})


def _counts(engine: Engine, *, all_schemas: bool) -> dict[str, int]:
    counts: dict[str, int] = {}
    with engine.connect() as conn:
        inspector = inspect(conn)
        preparer = conn.dialect.identifier_preparer
        schemas: list[str | None] = [None]
        if all_schemas and conn.dialect.name == "postgresql":
            schemas = [s for s in inspector.get_schema_names() if s not in SYSTEM_SCHEMAS]
        for schema in schemas:
            for name in inspector.get_table_names(schema=schema):
                quoted = f"{preparer.quote(schema)}.{preparer.quote(name)}" if schema else preparer.quote(name)
                key = f"{schema}.{name}" if schema else name
                counts[key] = int(conn.execute(text(f"SELECT COUNT(*) FROM {quoted}")).scalar_one())
        conn.rollback()
    return counts


@dataclass(frozen=True)
class Snapshot:
    warehouse: dict[str, int]
    catalog: dict[str, int]


@dataclass
class Counter:
    """Counts a gateway's warehouse and catalog; one sync engine on the catalog, disposed at the end."""

    gateway: Gateway
    _catalog: Engine = field(init=False)

    def __post_init__(self) -> None:
        self._catalog = create_engine(sync_url(self.gateway.settings.catalog_url), poolclass=NullPool)

    def take(self) -> Snapshot:
        return Snapshot(warehouse=_counts(self.gateway.services.deps.warehouse.engine, all_schemas=True),
                        catalog=_counts(self._catalog, all_schemas=False))

    def dispose(self) -> None:
        self._catalog.dispose()


def assert_same(before: Snapshot, after: Snapshot, grows: Mapping[str, int] | None = None) -> None:
    """``after`` equals ``before`` except catalog tables in ``grows``, which gain exactly that many rows."""
    allowed = dict(grows or {})
    assert after.warehouse == before.warehouse, _diff("warehouse", before.warehouse, after.warehouse)
    expected = {name: count + allowed.get(name, 0) for name, count in before.catalog.items()}
    assert after.catalog == expected, _diff("catalog", expected, after.catalog)


def _diff(label: str, expected: dict[str, int], actual: dict[str, int]) -> str:
    keys = sorted(set(expected) | set(actual))
    changed = {k: (expected.get(k), actual.get(k)) for k in keys if expected.get(k) != actual.get(k)}
    return f"the {label} changed (expected, actual): {changed}"


@asynccontextmanager
async def unchanged(gateway: Gateway, grows: Mapping[str, int] | None = None) -> AsyncIterator[None]:
    """``async with unchanged(gw): ...`` fails when the block changed a row count anywhere."""
    counter = Counter(gateway)
    try:
        before = counter.take()
        yield
        assert_same(before, counter.take(), grows)
    finally:
        counter.dispose()
