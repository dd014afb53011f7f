"""Live warehouses for the adapter contract suite: one fresh database per use, on the real engine.

Each :class:`LiveWarehouse` knows how to make a database of its engine, run setup SQL on it with
an admin connection of the same driver, run a query directly through that driver (the reference
the gateway's answers are compared with), and drop it again. Engines whose server is not
configured are skipped — unless the run requires them (CI), where a skip is a failure.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from tests.support.databases import create_pg_database, drop_pg_database
from tests.support.pg_warehouse import pg_dsn

ENGINES = ["sqlite", "postgresql"]

# The fixture schema every engine gets: a parent with a primary key, a child with a foreign key.
SETUP = (
    "CREATE TABLE customers (id INTEGER NOT NULL, name VARCHAR(100) NOT NULL, city VARCHAR(100), "
    "PRIMARY KEY (id))",
    "CREATE TABLE orders (id INTEGER NOT NULL, customer_id INTEGER NOT NULL, amount DECIMAL(10,2), "
    "note VARCHAR(2000), PRIMARY KEY (id), FOREIGN KEY (customer_id) REFERENCES customers (id))",
    "INSERT INTO customers VALUES (1, 'Ada', 'Paris'), (2, 'Bob', NULL), (3, 'Cy', 'Oslo')",
    "INSERT INTO orders VALUES (10, 1, 12.50, 'first'), (11, 1, 3.25, NULL), (12, 3, 99.99, 'big')",
)


@dataclass
class LiveWarehouse:
    engine: str
    url: str
    admin: Callable[[Sequence[str]], None]  # run statements, committed
    direct: Callable[[str], list[tuple[Any, ...]]]  # a query through the same driver, no gateway
    down: Callable[[], None]  # the warehouse stops answering (connections refused or file gone)
    back: Callable[[], None]
    unreachable: str  # a URL of this engine where nothing answers
    query_url: str | None = None  # the deployment's read-only login, where the engine has one
    after_setup: list[Callable[[], None]] = field(default_factory=list)
    cleanup: list[Callable[[], None]] = field(default_factory=list)

    def drop(self) -> None:
        for step in reversed(self.cleanup):
            step()


def read_url(live: LiveWarehouse) -> str | None:
    return live.query_url


def _sqlite(tmp: Path) -> LiveWarehouse:
    path = tmp / "warehouse.db"

    def admin(statements: Sequence[str]) -> None:
        with sqlite3.connect(path) as conn:
            for sql in statements:
                conn.execute(sql)

    def direct(sql: str) -> list[tuple[Any, ...]]:
        with sqlite3.connect(path) as conn:
            return [tuple(r) for r in conn.execute(sql).fetchall()]

    aside = tmp / "warehouse.db.down"
    return LiveWarehouse("sqlite", f"sqlite:///{path}", admin, direct,
                         down=lambda: path.rename(aside), back=lambda: aside.rename(path),
                         unreachable=f"sqlite:///{tmp / 'missing' / 'nothing.db'}")


def _postgres(_tmp: Path) -> LiveWarehouse:
    url = create_pg_database("spyne_contract")
    name = make_url(url).database
    # The documented deployment: queries log in as a role that may only SELECT (no superuser,
    # no pg_read_server_files), inside a READ ONLY transaction.
    role = f"spyne_reader_{uuid.uuid4().hex[:8]}"
    server = pg_dsn(url).rsplit("/", 1)[0] + "/postgres"

    def admin(statements: Sequence[str]) -> None:
        with psycopg.connect(pg_dsn(url), autocommit=True) as conn:
            for sql in statements:
                conn.execute(sql)

    def direct(sql: str) -> list[tuple[Any, ...]]:
        with psycopg.connect(pg_dsn(url)) as conn:
            return [tuple(r) for r in conn.execute(sql).fetchall()]

    def on_server(*statements: str) -> None:
        with psycopg.connect(server, autocommit=True) as conn:
            for sql in statements:
                conn.execute(sql)

    def grant() -> None:
        admin([f'CREATE ROLE "{role}" LOGIN', f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{role}"',
               "CREATE SEQUENCE evil_seq", f'GRANT USAGE ON SEQUENCE evil_seq TO "{role}"'])

    def down() -> None:
        on_server(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false',
                  f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' "
                  "AND pid <> pg_backend_pid()")

    def back() -> None:
        on_server(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')

    def drop_role() -> None:
        on_server(f'DROP ROLE IF EXISTS "{role}"')

    query_url = make_url(url).set(username=role).render_as_string(hide_password=False)
    live = LiveWarehouse("postgresql", url, admin, direct, down=down, back=back,
                         unreachable="postgresql://nobody@127.0.0.1:1/none", query_url=query_url,
                         cleanup=[drop_role, lambda: drop_pg_database(url)])
    live.after_setup.append(grant)
    return live


MAKERS: dict[str, Callable[[Path], LiveWarehouse]] = {"sqlite": _sqlite, "postgresql": _postgres}


@contextmanager
def live_warehouse(engine: str, tmp: Path, setup: Sequence[str] = SETUP) -> Iterator[LiveWarehouse]:
    tmp.mkdir(parents=True, exist_ok=True)
    live = MAKERS[engine](tmp)
    try:
        live.admin(setup)
        for step in live.after_setup:
            step()
        yield live
    finally:
        live.drop()
