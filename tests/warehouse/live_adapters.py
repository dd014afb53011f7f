"""Live warehouses for the adapter contract suite: one fresh database per use, on the real engine.

Each :class:`LiveWarehouse` knows how to make a database of its engine, run setup SQL on it with
an admin connection of the same driver, run a query directly through that driver (the reference
the gateway's answers are compared with), and drop it again. Engines whose server is not
configured are skipped — unless the run requires them (CI), where a skip is a failure.
"""

from __future__ import annotations

import contextlib
import sqlite3
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from tests.support.databases import create_pg_database, drop_pg_database, need_mysql
from tests.support.pg_warehouse import pg_dsn

ENGINES = ["sqlite", "postgresql", "duckdb", "mysql"]

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
    # Bulk rows (text values, as read from a CSV) into a table: the engine's fastest way in.
    load: Callable[[str, int, list[list[str]]], None] = lambda _t, _n, _rows: None
    cleanup: list[Callable[[], None]] = field(default_factory=list)
    quote_char: str = '"'  # how ``direct`` SQL quotes an identifier

    def quoted(self, physical_name: str) -> str:
        """``schema.table`` or ``table``, quoted for :attr:`direct`."""
        q = self.quote_char
        return ".".join(f"{q}{part}{q}" for part in physical_name.split("."))

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

    def load(table: str, width: int, rows: list[list[str]]) -> None:
        with sqlite3.connect(path) as conn:
            conn.executemany(f'INSERT INTO "{table}" VALUES ({", ".join("?" * width)})', rows)

    return LiveWarehouse("sqlite", f"sqlite:///{path}", admin, direct,
                         down=lambda: path.rename(aside), back=lambda: aside.rename(path),
                         unreachable=f"sqlite:///{tmp / 'missing' / 'nothing.db'}", load=load)


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

    def load(table: str, _width: int, rows: list[list[str]]) -> None:
        with psycopg.connect(pg_dsn(url)) as conn, conn.cursor().copy(f'COPY "{table}" FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)

    def drop_role() -> None:
        on_server(f'DROP ROLE IF EXISTS "{role}"')

    query_url = make_url(url).set(username=role).render_as_string(hide_password=False)
    live = LiveWarehouse("postgresql", url, admin, direct, down=down, back=back,
                         unreachable="postgresql://nobody@127.0.0.1:1/none", query_url=query_url,
                         cleanup=[drop_role, lambda: drop_pg_database(url)], load=load)
    live.after_setup.append(grant)
    return live


def _duckdb(tmp: Path) -> LiveWarehouse:
    import duckdb

    from gateway.warehouse.adapters.duckdb import FENCE_CONFIG

    path = tmp / "warehouse.duckdb"
    aside = tmp / "warehouse.duckdb.down"

    def admin(statements: Sequence[str]) -> None:
        with duckdb.connect(str(path)) as conn:
            for sql in statements:
                conn.execute(sql)

    def direct(sql: str) -> list[tuple[Any, ...]]:
        # The configuration the gateway opens it with: DuckDB shares one instance per file and
        # configuration in a process, and refuses a second configuration while one is open.
        with duckdb.connect(str(path), config=dict(FENCE_CONFIG)) as conn:
            return [tuple(r) for r in conn.execute(sql).fetchall()]

    def load(table: str, width: int, rows: list[list[str]]) -> None:
        unnested = ", ".join(f"unnest(?) AS c{i}" for i in range(width))
        with duckdb.connect(str(path)) as conn:
            conn.execute(f'INSERT INTO "{table}" SELECT * FROM (SELECT {unnested})',
                         [list(column) for column in zip(*rows, strict=True)])

    live = LiveWarehouse("duckdb", f"duckdb:///{path}", admin, direct, load=load,
                         down=lambda: path.rename(aside), back=lambda: aside.rename(path),
                         unreachable=f"duckdb:///{tmp / 'missing' / 'nothing.duckdb'}?read_only=true")
    live.after_setup.append(lambda: admin(["CREATE SEQUENCE evil_seq"]))
    return live


def _mysql(_tmp: Path) -> LiveWarehouse:
    import pymysql

    base = make_url(need_mysql())
    name = f"spyne_contract_{uuid.uuid4().hex[:10]}"
    user = f"spyne_r_{uuid.uuid4().hex[:8]}"

    def connect(database: str | None = None) -> Any:
        return pymysql.connect(host=base.host or "127.0.0.1", port=base.port or 3306,
                               user=base.username or "root", password=base.password or "",
                               database=database, autocommit=True)

    def on_server(*statements: str) -> None:
        conn = connect()
        try:
            with conn.cursor() as cur:
                for sql in statements:
                    cur.execute(sql)
        finally:
            conn.close()

    def admin(statements: Sequence[str]) -> None:
        conn = connect(name)
        try:
            with conn.cursor() as cur:
                for sql in statements:
                    cur.execute(sql)
        finally:
            conn.close()

    def direct(sql: str) -> list[tuple[Any, ...]]:
        conn = connect(name)
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
                return [tuple(r) for r in cur.fetchall()]
        finally:
            conn.close()

    def load(table: str, width: int, rows: list[list[str]]) -> None:
        conn = connect(name)
        try:
            with conn.cursor() as cur:
                for start in range(0, len(rows), 5000):
                    cur.executemany(f"INSERT INTO `{table}` VALUES ({', '.join(['%s'] * width)})",
                                    rows[start:start + 5000])
        finally:
            conn.close()

    def kill_reader() -> None:
        conn = connect()
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT id FROM information_schema.processlist WHERE user = %s", (user,))
                for (pid,) in cur.fetchall():
                    with contextlib.suppress(pymysql.MySQLError):
                        cur.execute(f"KILL {int(pid)}")
        finally:
            conn.close()

    def down() -> None:
        on_server(f"ALTER USER '{user}'@'%' ACCOUNT LOCK")
        kill_reader()

    on_server(f"CREATE DATABASE `{name}`", f"CREATE USER '{user}'@'%'",
              f"GRANT SELECT ON `{name}`.* TO '{user}'@'%'")
    url = base.set(drivername="mysql", database=name).render_as_string(hide_password=False)
    query_url = base.set(drivername="mysql", database=name, username=user, password=None) \
        .render_as_string(hide_password=False)
    return LiveWarehouse("mysql", url, admin, direct, down=down, load=load,
                         back=lambda: on_server(f"ALTER USER '{user}'@'%' ACCOUNT UNLOCK"),
                         unreachable="mysql://root@127.0.0.1:1/none", query_url=query_url, quote_char="`",
                         cleanup=[lambda: on_server(f"DROP USER IF EXISTS '{user}'@'%'"),
                                  lambda: on_server(f"DROP DATABASE IF EXISTS `{name}`")])


MAKERS: dict[str, Callable[[Path], LiveWarehouse]] = {"sqlite": _sqlite, "postgresql": _postgres,
                                                      "duckdb": _duckdb, "mysql": _mysql}


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
