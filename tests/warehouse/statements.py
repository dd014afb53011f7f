"""Per-engine SQL for the contract suite: what the read fence must refuse, what runs away, and a
generator of N rows of a given width. Tables of data, one row per engine."""

from __future__ import annotations

from collections.abc import Callable

# Every engine: writes and DDL of every kind.
_WRITES = (
    "INSERT INTO customers VALUES (9, 'Eve', NULL)",
    "UPDATE customers SET name = 'x'",
    "DELETE FROM orders",
    "DROP TABLE orders",
    "CREATE TABLE evil (a INTEGER)",
    "ALTER TABLE customers ADD COLUMN x INTEGER",
    "CREATE VIEW evil_view AS SELECT 1 AS a",
    "CREATE INDEX evil_ix ON customers (city)",
    "TRUNCATE TABLE orders",
)

EVIL_CSV = "/tmp/spyne_contract_evil.csv"

FENCED: dict[str, tuple[str, ...]] = {
    "sqlite": (*_WRITES[:-1],
               "ATTACH DATABASE 'evil.db' AS evil",
               "PRAGMA query_only = OFF",
               "PRAGMA writable_schema = ON",
               "PRAGMA journal_mode = DELETE",
               "SELECT load_extension('/nonexistent/evil')",
               f"VACUUM INTO '{EVIL_CSV}'",
               "CREATE TEMP TABLE evil_temp (a INTEGER)",
               "REINDEX",
               "ANALYZE",
               "BEGIN IMMEDIATE",
               "SELECT 1; DELETE FROM orders",
               "WITH d AS (DELETE FROM orders RETURNING id) SELECT * FROM d"),
    "postgresql": (*_WRITES,
                   f"COPY customers TO '{EVIL_CSV}'",
                   "COPY (SELECT 1) TO PROGRAM 'true'",
                   "SELECT pg_read_file('/etc/hostname')",
                   "SELECT pg_ls_dir('.')",
                   "SELECT lo_import('/etc/hostname')",
                   "CREATE EXTENSION IF NOT EXISTS pg_stat_statements",
                   "LOAD 'auto_explain'",
                   "CREATE TEMP TABLE evil_temp (a int)",
                   "SELECT set_config('transaction_read_only', 'off', false)",
                   "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE",
                   "RESET ROLE",
                   "SELECT 1; DELETE FROM orders",
                   "WITH d AS (DELETE FROM orders RETURNING id) SELECT * FROM d",
                   "SELECT nextval('evil_seq')",
                   "DO $$ BEGIN DELETE FROM orders; END $$"),
}

FENCED["duckdb"] = (
    *_WRITES,
    "SELECT * FROM read_csv('/etc/hostname')",
    "SELECT * FROM read_parquet('/tmp/spyne_contract_evil.parquet')",
    f"COPY customers TO '{EVIL_CSV}'",
    "ATTACH '/tmp/spyne_contract_evil.duckdb' AS evil",
    "DETACH DATABASE IF EXISTS evil",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SET enable_external_access = true",
    "SET threads = 1",
    "PRAGMA enable_progress_bar",
    "USE system.main",
    "SELECT nextval('evil_seq')",
    "CHECKPOINT",
    "EXPORT DATABASE '/tmp/spyne_contract_evil_export'",
    "SELECT 1; DELETE FROM orders",
)
FENCED["mysql"] = (
    *_WRITES,
    f"SELECT * FROM customers INTO OUTFILE '{EVIL_CSV}'",
    "LOAD DATA INFILE '/etc/hostname' INTO TABLE customers",
    "SET SESSION sql_mode = 'ANSI_QUOTES'",
    "SET GLOBAL max_connections = 1",
    "INSTALL SONAME 'ha_blackhole'",
    "LOCK TABLES customers READ",
    "FLUSH TABLES",
    "HANDLER customers OPEN",
    "DO SLEEP(0)",
    "SELECT 1; DELETE FROM orders",
    "CREATE TEMPORARY TABLE evil_temp (a INT)",
    "GRANT ALL ON *.* TO CURRENT_USER",
)
# Spark has no read-only session: the adapter refuses these before they leave (one query, every node
# and function on the allow-list, no file as a table), and the server refuses files and second
# statements itself (spark.sql.runSQLOnFiles=false, one statement per request).
FENCED["spark"] = (
    *_WRITES,
    "INSERT OVERWRITE DIRECTORY '/tmp/spyne_contract_evil_dir' SELECT * FROM customers",
    "LOAD DATA LOCAL INPATH '/etc/hostname' INTO TABLE customers",
    "SELECT * FROM parquet.`/tmp`",
    "SELECT * FROM csv.`file:///etc/passwd`",
    "SET spark.sql.runSQLOnFiles=true",
    "RESET",
    "USE default",
    "ADD JAR /tmp/spyne_contract_evil.jar",
    "CREATE TEMPORARY VIEW evil_view AS SELECT 1 AS a",
    "CREATE TEMPORARY FUNCTION evil AS 'java.lang.Runtime'",
    "CACHE TABLE customers",
    "REFRESH TABLE customers",
    "ANALYZE TABLE customers COMPUTE STATISTICS",
    "MSCK REPAIR TABLE customers",
    "SELECT reflect('java.lang.System', 'getProperty', 'user.name')",
    "SELECT java_method('java.lang.System', 'getenv', 'HOME')",
    "SELECT 1; DELETE FROM orders",
)

RUNAWAY: dict[str, tuple[str, ...]] = {
    "duckdb": ("SELECT COUNT(*) FROM range(1000000000000)",
               "SELECT SUM(a.range * b.range) FROM range(1000000) a, range(1000000) b"),
    "mysql": ("SELECT SLEEP(30)",
              "SELECT BENCHMARK(10000000000, MD5('x'))"),
    "sqlite": ("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT COUNT(*) FROM n",
               "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20) "
               "SELECT COUNT(*) FROM n a, n b, n c, n d, n e, n f, n g"),
    "postgresql": ("SELECT pg_sleep(30)",
                   "SELECT COUNT(*) FROM generate_series(1, 10000000000)"),
}


def _sqlite_rows(n: int, width: int) -> str:
    return (f"WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < {n}) "
            f"SELECT i, substr(replace(hex(zeroblob({width})), '0', 'x'), 1, {width}) AS v FROM g")


def _postgres_rows(n: int, width: int) -> str:
    return f"SELECT i, repeat('x', {width}) AS v FROM generate_series(1, {n}) AS g(i)"


def _duckdb_rows(n: int, width: int) -> str:
    return f"SELECT i, repeat('x', {width}) AS v FROM range(1, {n + 1}) AS g(i)"


def _mysql_rows(n: int, width: int) -> str:
    # Digits cross-joined, not a recursive CTE: MariaDB stops recursion at max_recursive_iterations
    # (1,000 here), and the joins stream where a recursive CTE is built whole first.
    digits = " UNION ALL ".join(f"SELECT {d} AS d" for d in range(10))
    places = range(len(str(max(n - 1, 1))))
    number = " + ".join(f"p{k}.d * {10 ** k}" for k in places)
    tables = ", ".join(f"({digits}) AS p{k}" for k in places)
    return f"SELECT i, REPEAT('x', {width}) AS v FROM (SELECT {number} + 1 AS i FROM {tables}) AS g WHERE i <= {n}"


def _digits(places: int) -> str:
    """The numbers 0 .. 10**places - 1 as the column ``i``, from cross-joined digit tables (plain SQL:
    no generator function, which the Spark adapter's allow-list does not have)."""
    digits = " UNION ALL ".join(f"SELECT {d} AS d" for d in range(10))
    number = " + ".join(f"p{k}.d * {10 ** k}" for k in range(places))
    return f"SELECT {number} AS i FROM " + ", ".join(f"({digits}) AS p{k}" for k in range(places))


def _spark_rows(n: int, width: int) -> str:
    return f"SELECT i + 1 AS i, repeat('x', {width}) AS v FROM ({_digits(len(str(max(n - 1, 1))))}) AS g WHERE i < {n}"


# A nested-loop join of a 200,000-row table with itself (4e10 pairs; a condition no pair meets):
# minutes of both local cores, were it not cancelled. Spark's tasks notice a cancel between the rows
# of a table they scan, so the outer side is a CSV table read row by row: generated rows (a loop
# over literals) never look up, and a Parquet scan looks up once per 4,096-row batch — seconds of
# the inner loop — so either keeps the server's cores busy long after the cancel.
SPARK_NUMBERS = "spyne_contract_shared.numbers_csv"
SPARK_NUMBERS_SQL = f"SELECT i FROM ({_digits(6)}) AS g WHERE i < 200000"
RUNAWAY["spark"] = (f"SELECT COUNT(*) FROM {SPARK_NUMBERS} AS a CROSS JOIN {SPARK_NUMBERS} AS b WHERE a.i + b.i < 0",)


ROWS_OF: dict[str, Callable[[int, int], str]] = {"sqlite": _sqlite_rows, "postgresql": _postgres_rows,
                                                 "duckdb": _duckdb_rows, "mysql": _mysql_rows,
                                                 "spark": _spark_rows}


# One call that would build a value past the byte cap: refused before the engine builds it
# (SQLite pads printf one character at a time inside one call, where no interrupt reaches).
OVERSIZED: dict[str, tuple[str, ...]] = {
    "sqlite": ("SELECT length(printf('%.*c', 200000000, 'x'))",
               "SELECT length(printf('%200000000d', 1))",
               "SELECT length(zeroblob(200000000))"),
}

# What the fence tests compare before and after: the rows, and every object of the schema.
STATE_PROBES: dict[str, tuple[str, ...]] = {
    "sqlite": ("SELECT COUNT(*) FROM sqlite_master",),
    "postgresql": ("SELECT COUNT(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace",
                   "SELECT COUNT(*) FROM pg_extension",
                   "SELECT last_value, is_called FROM evil_seq"),
    "duckdb": ("SELECT COUNT(*) FROM duckdb_tables()", "SELECT COUNT(*) FROM duckdb_views() WHERE NOT internal",
               "SELECT COUNT(*) FROM duckdb_databases()", "SELECT COUNT(*) FROM duckdb_indexes()"),
    "mysql": ("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE()",
              "SELECT COUNT(*) FROM information_schema.statistics WHERE table_schema = DATABASE()"),
    "spark": ("SHOW TABLES", "SHOW FUNCTIONS LIKE 'evil*'", "SHOW DATABASES"),
}
