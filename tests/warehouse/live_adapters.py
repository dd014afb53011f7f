"""Live warehouses for the adapter contract suite: one fresh database per use, on the real engine.

Each :class:`LiveWarehouse` knows how to make a database of its engine, run setup SQL on it with
an admin connection of the same driver, run a query directly through that driver (the reference
the gateway's answers are compared with), and drop it again. Engines whose server is not
configured are skipped — unless the run requires them (CI), where a skip is a failure.

Spark is a server the whole run shares (started once, see ``tests.support.spark_server``): each
use gets a database of its own on it, and the gateway reaches it through a TCP proxy that can go
down and come back without stopping the server.
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
import pytest
from sqlalchemy.engine import make_url

from tests.support.databases import create_pg_database, drop_pg_database, need_mysql
from tests.support.pg_warehouse import pg_dsn
from tests.support.spark import SPARK_MARKS

ENGINES = ["sqlite", "postgresql", "duckdb", "mysql"]
# The contract suite runs on every live adapter: the engines above and Spark, on its shared server
# (its tests carry the Spark marks: one xdist worker, skipped only where Spark is not required).
CONTRACT_ENGINES = [*ENGINES, pytest.param("spark", marks=SPARK_MARKS, id="spark")]

# The fixture schema every engine gets: a parent with a primary key, a child with a foreign key.
SETUP = (
    "CREATE TABLE customers (id INTEGER NOT NULL, name VARCHAR(100) NOT NULL, city VARCHAR(100), "
    "PRIMARY KEY (id))",
    "CREATE TABLE orders (id INTEGER NOT NULL, customer_id INTEGER NOT NULL, amount DECIMAL(10,2), "
    "note VARCHAR(2000), PRIMARY KEY (id), FOREIGN KEY (customer_id) REFERENCES customers (id))",
    "INSERT INTO customers VALUES (1, 'Ada', 'Paris'), (2, 'Bob', NULL), (3, 'Cy', 'Oslo')",
    "INSERT INTO orders VALUES (10, 1, 12.50, 'first'), (11, 1, 3.25, NULL), (12, 3, 99.99, 'big')",
)
# The same on Spark, which has no primary or foreign keys for its catalog tables: the columns,
# types and rows are the same.
SPARK_SETUP = (
    "CREATE TABLE customers (id INT NOT NULL, name VARCHAR(100) NOT NULL, city VARCHAR(100)) USING parquet",
    "CREATE TABLE orders (id INT NOT NULL, customer_id INT NOT NULL, amount DECIMAL(10,2), "
    "note VARCHAR(2000)) USING parquet",
    *SETUP[2:],
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
    # Statements of the gateway's read login running on the server now (servers only: an
    # embedded engine's statements die with their connection in this process).
    running: Callable[[], int] | None = lambda: 0  # None: the server cannot say
    cleanup: list[Callable[[], None]] = field(default_factory=list)
    # The engine keeps NOT NULL, primary and foreign keys (Spark's data-source tables keep none:
    # it accepts NOT NULL in CREATE TABLE and drops it, as SHOW CREATE TABLE shows).
    constraints: bool = True
    setup: Sequence[str] = SETUP  # the fixture schema in the engine's own spelling
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

    def running() -> int:
        with psycopg.connect(server, autocommit=True) as conn:
            found = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE usename = %s AND state = 'active'",
                                 (role,)).fetchone()
        return int(found[0]) if found else 0

    query_url = make_url(url).set(username=role).render_as_string(hide_password=False)
    live = LiveWarehouse("postgresql", url, admin, direct, down=down, back=back,
                         unreachable="postgresql://nobody@127.0.0.1:1/none", query_url=query_url,
                         cleanup=[drop_role, lambda: drop_pg_database(url)], load=load, running=running)
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

    def running() -> int:
        conn = connect()
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT COUNT(*) FROM information_schema.processlist WHERE user = %s "
                            "AND command <> 'Sleep'", (user,))
                return int(cur.fetchone()[0])
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
    return LiveWarehouse("mysql", url, admin, direct, down=down, load=load, running=running,
                         back=lambda: on_server(f"ALTER USER '{user}'@'%' ACCOUNT UNLOCK"),
                         unreachable="mysql://root@127.0.0.1:1/none", query_url=query_url, quote_char="`",
                         cleanup=[lambda: on_server(f"DROP USER IF EXISTS '{user}'@'%'"),
                                  lambda: on_server(f"DROP DATABASE IF EXISTS `{name}`")])


def _spark(_tmp: Path) -> LiveWarehouse:
    from pyhive import hive

    from tests.support.spark import fresh_database_name, session_server_url
    from tests.support.tcp_proxy import TcpProxy

    server = make_url(session_server_url())
    name = fresh_database_name("spyne_contract")

    def run(statements: Sequence[str], database: str = name) -> list[tuple[Any, ...]]:
        conn = hive.connect(host=server.host, port=server.port, username=server.username or "spyne",
                            database=database)
        try:
            cursor = conn.cursor()
            rows: list[tuple[Any, ...]] = []
            for sql in statements:
                cursor.execute(sql)
                rows = [tuple(r) for r in cursor.fetchall()] if cursor.description else []
            return rows
        finally:
            # The server's first session close after start can fail loading Hive's function
            # registry (a class the pyspark package lacks); the statements have run all the same.
            with contextlib.suppress(Exception):
                conn.close()

    def load(table: str, _width: int, rows: list[list[str]]) -> None:
        for start in range(0, len(rows), 5000):
            values = ", ".join("(" + ", ".join("'" + v.replace("'", "''") + "'" for v in row) + ")"
                               for row in rows[start:start + 5000])
            run([f"INSERT INTO {table} VALUES {values}"])

    from tests.warehouse.statements import SPARK_NUMBERS, SPARK_NUMBERS_SQL

    run([f"CREATE DATABASE {name}"], database="default")
    # The runaway's table, made once per server (a table scan is what a cancel interrupts).
    run([f"CREATE DATABASE IF NOT EXISTS {SPARK_NUMBERS.partition('.')[0]}",
         f"CREATE TABLE IF NOT EXISTS {SPARK_NUMBERS} USING csv AS {SPARK_NUMBERS_SQL}"], database="default")
    proxy = TcpProxy(server.host or "127.0.0.1", server.port or 10000)
    url = server.set(port=proxy.port, database=name).render_as_string(hide_password=False)
    return LiveWarehouse("spark", url, admin=run, direct=lambda sql: run([sql]), down=proxy.down, back=proxy.back,
                         unreachable="hive://spyne@127.0.0.1:1/default", load=load, running=None, constraints=False,
                         setup=SPARK_SETUP,
                         cleanup=[lambda: run([f"DROP DATABASE IF EXISTS {name} CASCADE"], database="default"),
                                  proxy.close])


MAKERS: dict[str, Callable[[Path], LiveWarehouse]] = {"sqlite": _sqlite, "postgresql": _postgres,
                                                      "duckdb": _duckdb, "mysql": _mysql, "spark": _spark}


@contextmanager
def live_warehouse(engine: str, tmp: Path, setup: Sequence[str] = SETUP) -> Iterator[LiveWarehouse]:
    tmp.mkdir(parents=True, exist_ok=True)
    live = MAKERS[engine](tmp)
    try:
        live.admin(live.setup if setup is SETUP else setup)
        for step in live.after_setup:
            step()
        yield live
    finally:
        live.drop()
