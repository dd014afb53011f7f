"""Real catalog databases for tests: a migrated SQLite template copied per test, and one
PostgreSQL database per session (created and dropped here), emptied between tests."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from gateway.store.engine import migrate, sync_url

PG_URL = os.environ.get("SPYNE_TEST_POSTGRES_URL")
REQUIRE_PG = os.environ.get("SPYNE_REQUIRE_POSTGRES") == "1"

CATALOG_TABLES = ("audit_events", "state_history", "promotions", "table_versions", "logical_tables",
                  "users", "system_config")


def need_postgres() -> str:
    if not PG_URL:
        if REQUIRE_PG:
            pytest.fail("SPYNE_REQUIRE_POSTGRES=1 but SPYNE_TEST_POSTGRES_URL is not set")
        pytest.skip("PostgreSQL half: set SPYNE_TEST_POSTGRES_URL to run it")
    return PG_URL


MYSQL_URL = os.environ.get("SPYNE_TEST_MYSQL_URL")
REQUIRE_MYSQL = os.environ.get("SPYNE_REQUIRE_MYSQL") == "1"


def need_mysql() -> str:
    """The MySQL/MariaDB half: runs when SPYNE_TEST_MYSQL_URL is set; CI requires it."""
    if not MYSQL_URL:
        if REQUIRE_MYSQL:
            pytest.fail("SPYNE_REQUIRE_MYSQL=1 but SPYNE_TEST_MYSQL_URL is not set")
        pytest.skip("MySQL half: set SPYNE_TEST_MYSQL_URL to run it")
    return MYSQL_URL


def create_mysql_database(prefix: str) -> str:
    """A fresh MySQL/MariaDB database; its URL names the PyMySQL driver (SQLAlchemy's default
    MySQL driver is not installed), which the gateway takes as it is."""
    import pymysql

    base = make_url(need_mysql())
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    conn = pymysql.connect(host=base.host or "127.0.0.1", port=base.port or 3306, user=base.username or "root",
                           password=base.password or "", autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}`")
    finally:
        conn.close()
    return base.set(drivername="mysql+pymysql", database=name).render_as_string(hide_password=False)


def drop_mysql_database(url: str) -> None:
    import pymysql

    parsed = make_url(url)
    conn = pymysql.connect(host=parsed.host or "127.0.0.1", port=parsed.port or 3306,
                           user=parsed.username or "root", password=parsed.password or "", autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{parsed.database}`")
    finally:
        conn.close()


def database_url(base: str, name: str) -> str:
    return make_url(base).set(database=name).render_as_string(hide_password=False)


def create_pg_database(prefix: str) -> str:
    base = need_postgres()
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(sync_url(base), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return database_url(base, name)


def drop_pg_database(url: str) -> None:
    base = need_postgres()
    name = make_url(url).database
    admin = create_engine(sync_url(base), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def make_sqlite_template(directory: Path) -> Path:
    path = directory / "catalog-template.db"
    migrate(f"sqlite:///{path}")
    return path


def fresh_sqlite_catalog(template: Path, directory: Path) -> str:
    target = directory / "catalog.db"
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


def reset_pg_catalog(url: str, extra_tables: tuple[str, ...] = ()) -> None:
    engine = create_engine(sync_url(url), poolclass=NullPool)
    with engine.begin() as conn:
        # A previous test's app may still hold a transaction on this catalog from a task of the shared
        # event loop, which this blocking reset would keep from ever finishing: end those sessions.
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
        existing = set(conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
        )).scalars())
        tables = [t for t in existing if t != "catalog_epoch"]
        if tables:
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in sorted(tables)) + " RESTART IDENTITY CASCADE"))
        conn.execute(text("UPDATE catalog_epoch SET epoch = 0"))
    engine.dispose()
