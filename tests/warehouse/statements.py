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

RUNAWAY: dict[str, tuple[str, ...]] = {
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


ROWS_OF: dict[str, Callable[[int, int], str]] = {"sqlite": _sqlite_rows, "postgresql": _postgres_rows}


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
}
