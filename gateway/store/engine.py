"""The catalog's async engine, and running its migrations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


# The driver each backend uses: async for the catalog service, sync for migrations and tools.
_DRIVERS = {
    "async": {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"},
    "sync": {"sqlite": "sqlite", "postgresql": "postgresql+psycopg"},
}


def _with_driver(url: str, kind: str) -> str:
    parsed = make_url(url)
    driver = _DRIVERS[kind].get(parsed.get_backend_name())
    return parsed.set(drivername=driver).render_as_string(hide_password=False) if driver else url


def async_url(url: str) -> str:
    """The async-driver form of a catalog URL (``sqlite://`` → aiosqlite, ``postgresql://`` → asyncpg)."""
    return _with_driver(url, "async")


def sync_url(url: str) -> str:
    return _with_driver(url, "sync")


def ensure_sqlite_dir(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers run beside the one writer; foreign keys are off by default.
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL never corrupts and survives process crashes; an OS crash or
    # power loss may drop the last commits. PostgreSQL is the store for that guarantee.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def create_catalog_engine(url: str) -> AsyncEngine:
    ensure_sqlite_dir(url)
    target = async_url(url)
    if make_url(target).get_backend_name() == "sqlite":
        engine = create_async_engine(target, poolclass=NullPool if ":memory:" in target else None,
                                     connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(target, pool_size=10, max_overflow=10, pool_pre_ping=True)


def create_sync_catalog_engine(url: str) -> Engine | None:
    """A plain sqlite3 engine on a SQLite catalog file, for work run in one worker thread.

    Through aiosqlite every statement (and every cursor, fetch and rollback) is a hop to the
    connection's thread and back; a short transaction run whole in a thread costs one. None for
    PostgreSQL (asyncpg does not hop threads) and for in-memory catalogs (a second engine would
    see another database).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or ":memory:" in url:
        return None
    ensure_sqlite_dir(url)
    engine = create_engine(sync_url(url), connect_args={"timeout": 30, "check_same_thread": False},
                           pool_size=4, max_overflow=4)
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", sync_url(url).replace("%", "%%"))
    return config


def migrate(url: str, revision: str = "heads") -> None:
    """Upgrade to every head: each area (queries, ingestion, drift, joins) is its own branch off 0001."""
    ensure_sqlite_dir(url)
    command.upgrade(alembic_config(url), revision)


def migrations_current(url: str) -> bool:
    """Whether the catalog is at the newest migration (for /readyz)."""
    script = ScriptDirectory.from_config(alembic_config(url))
    engine = create_engine(sync_url(url), poolclass=NullPool)
    try:
        with engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
    finally:
        engine.dispose()
    return current == set(script.get_heads())
