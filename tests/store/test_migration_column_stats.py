"""Migration 0008 (table_versions.column_stats) on SQLite and PostgreSQL: up, down, up again, and
the one-ACTIVE-per-table index survives SQLite's table rebuild on the way down."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import NullPool

from gateway.store.engine import alembic_config, migrate, sync_url
from tests.support.databases import create_pg_database, drop_pg_database


@pytest.fixture(params=["sqlite", "postgres"])
def fresh_catalog(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'catalog.db'}"
        return
    url = create_pg_database("spyne_test_migration")
    try:
        yield url
    finally:
        drop_pg_database(url)


def _columns(url: str) -> set[str]:
    engine = create_engine(sync_url(url), poolclass=NullPool)
    try:
        return {c["name"] for c in inspect(engine).get_columns("table_versions")}
    finally:
        engine.dispose()


def _two_active_versions(url: str) -> None:
    engine = create_engine(sync_url(url), poolclass=NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO logical_tables (id, name, created_at) VALUES (1, 't', CURRENT_TIMESTAMP)"))
            for version in (1, 2):
                conn.execute(text(
                    "INSERT INTO table_versions (table_id, version, state, physical_name, columns, foreign_keys, "
                    "schema_version, created_at, updated_at) VALUES (1, :v, 'ACTIVE', :p, '[]', '[]', '1.0', "
                    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"), {"v": version, "p": f"t{version}"})
    finally:
        engine.dispose()


def test_column_stats_migrates_up_and_down(fresh_catalog: str) -> None:
    migrate(fresh_catalog)
    assert "column_stats" in _columns(fresh_catalog)
    command.downgrade(alembic_config(fresh_catalog), "0008@-1")
    assert "column_stats" not in _columns(fresh_catalog)
    with pytest.raises(IntegrityError):
        _two_active_versions(fresh_catalog)
    migrate(fresh_catalog)
    assert "column_stats" in _columns(fresh_catalog)
