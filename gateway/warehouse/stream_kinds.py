"""Each engine's result-column types as the portable kinds of a download (:data:`stream.KINDS`).

One table per engine, keyed by what its driver reports about an executed query: PostgreSQL's
type OIDs, DuckDB's type ids, MySQL's wire field types, Spark's Thrift type names. A type that is
not in its table is carried as text (``TEXT``), or typed by its values (``None``) where the
engine's type alone does not say what Python values come back.

Integers wider than 64 bits (DuckDB's HUGEINT, unsigned BIGINTs) are exact decimals of as many
digits: Arrow's int64 cannot hold them. Nested values (lists, structs, maps) are JSON text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gateway.warehouse.stream import StreamColumn

# --- PostgreSQL: pg_type OIDs ------------------------------------------------------------------

PG_KINDS: dict[int, str] = {
    16: "BOOLEAN", 20: "INT64", 21: "INT16", 23: "INT32", 26: "INT64", 700: "FLOAT32", 701: "FLOAT64",
    1700: "DECIMAL", 25: "TEXT", 1043: "TEXT", 1042: "TEXT", 19: "TEXT", 18: "TEXT", 1082: "DATE",
    1083: "TIME", 1114: "TIMESTAMP", 1184: "TIMESTAMPTZ", 1186: "INTERVAL", 17: "BINARY", 114: "JSON",
    3802: "JSON", 2950: "UUID",
}


def pg_column(name: str, entry: Any) -> StreamColumn:
    """A psycopg cursor description entry: the type OID, and a NUMERIC's precision and scale."""
    kind = PG_KINDS.get(int(entry.type_code), "TEXT")
    if kind == "DECIMAL":
        return StreamColumn(name, kind, getattr(entry, "precision", None), getattr(entry, "scale", None))
    return StreamColumn(name, kind)


# --- DuckDB: DuckDBPyType.id ---------------------------------------------------------------------

DUCKDB_KINDS: dict[str, str] = {
    "boolean": "BOOLEAN", "tinyint": "INT16", "smallint": "INT16", "utinyint": "INT16", "integer": "INT32",
    "usmallint": "INT32", "bigint": "INT64", "uinteger": "INT64", "float": "FLOAT32", "double": "FLOAT64",
    "decimal": "DECIMAL", "varchar": "TEXT", "date": "DATE", "time": "TIME", "timestamp": "TIMESTAMP",
    "timestamp_s": "TIMESTAMP", "timestamp_ms": "TIMESTAMP", "timestamp_ns": "TIMESTAMP",
    "timestamp with time zone": "TIMESTAMPTZ", "interval": "INTERVAL", "uuid": "UUID", "blob": "BINARY",
    "list": "JSON", "array": "JSON", "struct": "JSON", "map": "JSON",
}
# Integers past int64, as exact decimals of (precision, scale): as many digits as the type's
# extremes have (HUGEINT's reach 39, one more than decimal128 holds, so it is a decimal256).
DUCKDB_WIDE_INTEGERS: dict[str, tuple[int, int]] = {"ubigint": (20, 0), "hugeint": (39, 0), "uhugeint": (39, 0)}


def duckdb_column(name: str, entry: Any) -> StreamColumn:
    """A DuckDB cursor description entry: its type is a ``DuckDBPyType`` (id, and a DECIMAL's
    precision and scale among its children). TIME WITH TIME ZONE, ENUM, BIT, BIGNUM and UNION
    are text (a time's offset would be lost as an Arrow time)."""
    duck_type = entry[1]
    type_id = str(getattr(duck_type, "id", duck_type))
    if type_id in DUCKDB_WIDE_INTEGERS:
        return StreamColumn(name, "DECIMAL", *DUCKDB_WIDE_INTEGERS[type_id])
    kind = DUCKDB_KINDS.get(type_id, "TEXT")
    if kind == "DECIMAL":
        children = dict(duck_type.children)
        return StreamColumn(name, kind, int(children["precision"]), int(children["scale"]))
    return StreamColumn(name, kind)


# --- MySQL / MariaDB: the wire protocol's field types -----------------------------------------

MYSQL_KINDS: dict[int, str] = {
    1: "INT16", 2: "INT16", 9: "INT32", 3: "INT32", 8: "INT64", 13: "INT16",  # TINY SHORT INT24 LONG LONGLONG YEAR
    4: "FLOAT32", 5: "FLOAT64", 0: "DECIMAL", 246: "DECIMAL", 10: "DATE", 14: "DATE", 11: "INTERVAL",
    7: "TIMESTAMP", 12: "TIMESTAMP", 245: "JSON", 247: "TEXT", 248: "TEXT", 16: "BINARY", 6: "TEXT",
}
# Unsigned integers one size up (an unsigned BIGINT as a 20-digit decimal).
MYSQL_UNSIGNED: dict[int, str] = {1: "INT16", 2: "INT32", 9: "INT32", 3: "INT64", 13: "INT16"}
# CHAR/VARCHAR/TEXT and BINARY/VARBINARY/BLOB share field types; character set 63 is "binary".
MYSQL_STRING_TYPES = frozenset({15, 249, 250, 251, 252, 253, 254})
MYSQL_BINARY_CHARSET = 63
_UNSIGNED_FLAG = 32


def mysql_columns(fields: Sequence[Any]) -> tuple[StreamColumn, ...]:
    """Columns from PyMySQL's field packets (type, flags, character set, length, decimals): the
    DBAPI description leaves out the flags and the character set, which say unsigned and binary.

    MySQL's TIME is a duration (PyMySQL returns a timedelta), so it is an interval; TIMESTAMP and
    DATETIME are the session's local time without a zone (MySQL has no type with one)."""
    return tuple(_mysql_column(f) for f in fields)


def _mysql_column(field: Any) -> StreamColumn:
    name, type_code = str(field.name), int(field.type_code)
    unsigned = bool(field.flags & _UNSIGNED_FLAG)
    if type_code in MYSQL_STRING_TYPES:
        return StreamColumn(name, "BINARY" if field.charsetnr == MYSQL_BINARY_CHARSET else "TEXT")
    if type_code == 8 and unsigned:
        return StreamColumn(name, "DECIMAL", 20, 0)
    if type_code in (0, 246):
        # The field length counts the digits, the point (when there is a scale) and the sign.
        scale = int(field.scale)
        precision = int(field.length) - (1 if scale > 0 else 0) - (0 if unsigned else 1)
        return StreamColumn(name, "DECIMAL", max(precision, scale, 1), scale)
    kind = (MYSQL_UNSIGNED if unsigned else MYSQL_KINDS).get(type_code) or MYSQL_KINDS.get(type_code, "TEXT")
    return StreamColumn(name, kind)


# --- Spark: the Thrift TTypeId names -----------------------------------------------------------

SPARK_KINDS: dict[str, str] = {
    "BOOLEAN_TYPE": "BOOLEAN", "TINYINT_TYPE": "INT16", "SMALLINT_TYPE": "INT16", "INT_TYPE": "INT32",
    "BIGINT_TYPE": "INT64", "FLOAT_TYPE": "FLOAT32", "DOUBLE_TYPE": "FLOAT64", "DECIMAL_TYPE": "DECIMAL",
    "STRING_TYPE": "TEXT", "VARCHAR_TYPE": "TEXT", "CHAR_TYPE": "TEXT", "DATE_TYPE": "DATE",
    "TIMESTAMP_TYPE": "TIMESTAMP", "BINARY_TYPE": "BINARY", "ARRAY_TYPE": "JSON", "MAP_TYPE": "JSON",
    "STRUCT_TYPE": "JSON",
}


def spark_column(name: str, type_name: str, precision: int | None, scale: int | None) -> StreamColumn:
    """Spark's TIMESTAMP is the session's local time (``spark.sql.session.timeZone``) as Thrift
    sends it, without a zone; intervals come as Spark's text."""
    kind = SPARK_KINDS.get(type_name, "TEXT")
    if kind == "DECIMAL":
        return StreamColumn(name, kind, precision, scale)
    return StreamColumn(name, kind)
