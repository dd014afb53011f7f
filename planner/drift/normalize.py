"""Type normalisation: one :class:`NormalType` for every spelling of a type.

sqlglot parses the spelling in the source's dialect (``exp.DataType.build``), which already
folds most aliases (``int4``/``INTEGER``/``int``/``int32``; ``float8``/``double precision``).
On top of that, this module folds what sqlglot keeps apart but readers cannot tell apart
(``DATETIME``/``TIMESTAMPNTZ``/``TIMESTAMP``, ``NVARCHAR``/``VARCHAR``, ``SERIAL``/``INT``,
an unbounded ``VARCHAR``/``TEXT``) and fixes the few spellings whose meaning depends on the
engine in ways sqlglot's default dialect gets wrong for our warehouses (``int8`` is eight
bytes in PostgreSQL, DuckDB and SQLite alike).

Decisions worth knowing:

* DuckDB does not enforce string lengths, so every DuckDB string is ``TEXT`` (sqlglot already
  does this for ``varchar(20)`` but not for ``character varying(20)``).
* SQLite does not enforce them either, but its declared length is what a contract promises,
  so SQLite keeps declared lengths. A SQLite spelling sqlglot cannot parse (``UNSIGNED BIG
  INT``, ``VARYING CHARACTER(20)``) falls back to SQLite's own affinity rules.
* ``TIMESTAMP(6)`` is ``TIMESTAMP`` (six digits is the default everywhere we run);
  ``CHAR`` without a length is ``CHAR(1)``; ``DECIMAL`` without a precision is unbounded.
* A type nobody can parse is ``UNKNOWN`` and keeps its text; the lattice will not guess
  about it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import SqlglotError

from planner.drift.model import DriftInputError

T = exp.DataType.Type

# sqlglot type -> (our kind, family). A kind is what the lattice reasons about.
_KINDS: dict[Any, tuple[str, str]] = {  # keyed by exp.DataType.Type
    **{t: (t.name, "integer") for t in (
        T.TINYINT, T.SMALLINT, T.MEDIUMINT, T.INT, T.BIGINT, T.INT128, T.INT256,
        T.UTINYINT, T.USMALLINT, T.UMEDIUMINT, T.UINT, T.UBIGINT, T.UINT128, T.UINT256)},
    T.SMALLSERIAL: ("SMALLINT", "integer"),
    T.SERIAL: ("INT", "integer"),
    T.BIGSERIAL: ("BIGINT", "integer"),
    T.FLOAT: ("FLOAT", "float"),
    T.DOUBLE: ("DOUBLE", "float"),
    **{t: ("DECIMAL", "decimal") for t in (
        T.DECIMAL, T.DECIMAL32, T.DECIMAL64, T.DECIMAL128, T.DECIMAL256, T.BIGDECIMAL)},
    **{t: ("CHAR", "string") for t in (T.CHAR, T.NCHAR, T.BPCHAR)},
    **{t: ("VARCHAR", "string") for t in (T.VARCHAR, T.NVARCHAR)},
    **{t: ("TEXT", "string") for t in (T.TEXT, T.MEDIUMTEXT, T.LONGTEXT, T.NAME)},
    T.TINYTEXT: ("VARCHAR", "string"),
    T.BINARY: ("BINARY", "binary"),
    **{t: ("VARBINARY", "binary") for t in (
        T.VARBINARY, T.BLOB, T.TINYBLOB, T.MEDIUMBLOB, T.LONGBLOB)},
    T.DATE: ("DATE", "date"),
    T.DATE32: ("DATE", "date"),
    **{t: ("TIMESTAMP", "timestamp") for t in (
        T.TIMESTAMP, T.DATETIME, T.TIMESTAMPNTZ, T.DATETIME2, T.SMALLDATETIME, T.DATETIME64,
        T.TIMESTAMP_S, T.TIMESTAMP_MS, T.TIMESTAMP_NS)},
    T.TIMESTAMPTZ: ("TIMESTAMPTZ", "timestamptz"),
    T.TIMESTAMPLTZ: ("TIMESTAMPTZ", "timestamptz"),
    T.TIME: ("TIME", "time"),
    T.TIME_NS: ("TIME", "time"),
    T.TIMETZ: ("TIMETZ", "timetz"),
    T.BOOLEAN: ("BOOLEAN", "boolean"),
    T.UUID: ("UUID", "uuid"),
    T.JSON: ("JSON", "json"),
    T.JSONB: ("JSONB", "json"),
    T.INTERVAL: ("INTERVAL", "interval"),
    T.ARRAY: ("ARRAY", "array"),
    T.LIST: ("ARRAY", "array"),
}

# Fractional-second digits implied by the type name itself.
_IMPLIED_PRECISION = {T.TIMESTAMP_S: 0, T.TIMESTAMP_MS: 3, T.TIMESTAMP_NS: 9, T.TIME_NS: 9}
_DEFAULT_TIME_PRECISION = 6
_FIXED_LENGTHS = {T.TINYTEXT: 255}

# Spellings whose meaning sqlglot's reading does not match the engine's, by dialect
# (None = sqlglot's default dialect, which we use for engine-neutral contracts).
_SPELLINGS: dict[str | None, dict[str, str]] = {
    None: {"int8": "BIGINT"},
    # SQLite stores every integer in at most eight signed bytes, whatever the declaration says.
    "sqlite": {"int8": "BIGINT", "unsigned big int": "BIGINT"},
    "duckdb": {"uint8": "UTINYINT", "uint16": "USMALLINT", "uint32": "UINT", "uint64": "UBIGINT",
               "float32": "FLOAT", "float64": "DOUBLE"},
}
# Leading words sqlglot does not know, rewritten before parsing (SQLite's documented examples).
_PREFIXES: dict[str | None, tuple[tuple[str, str], ...]] = {
    "sqlite": (("varying character", "VARCHAR"), ("native character", "NCHAR")),
}

# Dialects whose engine ignores declared string lengths.
_UNBOUNDED_STRING_DIALECTS = frozenset({"duckdb"})
# Dialects whose engine stores every floating-point number in eight bytes (SQLite's REAL).
_DOUBLE_ONLY_DIALECTS = frozenset({"sqlite"})

# SQLite's affinity rules (https://sqlite.org/datatype3.html §3.1), in their order, used
# only when sqlglot cannot read a SQLite spelling.
_SQLITE_AFFINITY: tuple[tuple[tuple[str, ...], str], ...] = (
    (("INT",), "BIGINT"),
    (("CHAR", "CLOB", "TEXT"), "TEXT"),
    (("BLOB",), "BLOB"),
    (("REAL", "FLOA", "DOUB"), "DOUBLE"),
)


@dataclass(frozen=True, slots=True)
class NormalType:
    """A type as the drift engine compares it.

    ``length`` is for strings and binaries (None: unbounded); ``precision`` and ``scale`` for
    decimals (None precision: unbounded) and ``precision`` for fractional seconds of times
    (None: the default of six digits); ``element`` for arrays. ``text`` is the canonical
    spelling shown to people.
    """

    kind: str
    family: str
    text: str
    length: int | None = None
    precision: int | None = None
    scale: int | None = None
    element: NormalType | None = None

    @property
    def known(self) -> bool:
        return self.family != "unknown"


def unknown(type_text: str) -> NormalType:
    return NormalType(kind="UNKNOWN", family="unknown", text=type_text.strip())


@lru_cache(maxsize=8192)
def normalize_type(type_text: str, dialect: str | None = None) -> NormalType:
    """Normalise a type spelled in ``dialect``. An unreadable type is UNKNOWN, not an error;
    only a dialect sqlglot does not know raises :class:`DriftInputError`.

    >>> normalize_type("int4", "postgres") == normalize_type("INTEGER", "sqlite")
    True
    >>> normalize_type("character varying(20)", "postgres").text
    'VARCHAR(20)'
    """
    key = _dialect(dialect)
    spelled = " ".join(type_text.split())
    if not spelled:
        return unknown(type_text)
    override = _SPELLINGS.get(key, {}).get(spelled.lower())
    for prefix, replacement in _PREFIXES.get(key, ()):
        if spelled.lower().startswith(prefix):
            override = replacement + spelled[len(prefix):]
    try:
        built = exp.DataType.build(override or spelled, dialect=key)
    except (SqlglotError, ValueError):
        fallback = _sqlite_affinity(spelled) if key == "sqlite" else None
        if fallback is None:
            return unknown(type_text)
        built = exp.DataType.build(fallback)
    return from_datatype(built, key)


@lru_cache(maxsize=64)
def _dialect(dialect: str | None) -> str | None:
    """The dialect's lower-case name; a misspelt dialect is an input error, not UNKNOWN types."""
    if not dialect:
        return None
    try:
        Dialect.get_or_raise(dialect.lower())
    except ValueError as err:
        raise DriftInputError(f"Unknown SQL dialect {dialect!r}; use one sqlglot knows, "
                              "such as 'postgres', 'sqlite' or 'duckdb'.") from err
    return dialect.lower()


def _sqlite_affinity(spelled: str) -> str | None:
    upper = spelled.upper()
    for needles, target in _SQLITE_AFFINITY:
        if any(n in upper for n in needles):
            return target
    return "DECIMAL"  # SQLite's NUMERIC affinity, the rule's last case


def _int_params(node: exp.DataType) -> list[int | None]:
    params: list[int | None] = []
    for e in node.expressions:
        inner = e.this if isinstance(e, exp.DataTypeParam) else e
        text = inner.name if isinstance(inner, exp.Expression) else str(inner)
        params.append(int(text) if text.isdigit() else None)
    return params


def from_datatype(node: exp.DataType, dialect: str | None = None) -> NormalType:
    """Normalise an already-parsed sqlglot data type."""
    mapped = _KINDS.get(node.this)
    if mapped is None:
        known_text = node.sql().upper()
        return NormalType(kind=node.this.name, family="other", text=known_text)
    kind, family = mapped
    if family == "array":
        inner = node.expressions[0] if node.expressions else None
        element = from_datatype(inner, dialect) if isinstance(inner, exp.DataType) else None
        shown = element.text if element else "UNKNOWN"
        return NormalType(kind="ARRAY", family="array", text=f"ARRAY<{shown}>", element=element)
    params = _int_params(node)
    first = params[0] if params else None
    if family == "float":
        if dialect in _DOUBLE_ONLY_DIALECTS:
            kind = "DOUBLE"
        elif first is not None:  # SQL's FLOAT(p) counts binary digits: up to 24 is single
            kind = "FLOAT" if first <= 24 else "DOUBLE"
        return NormalType(kind=kind, family=family, text=kind)
    if family == "decimal":
        scale = params[1] if len(params) > 1 else (0 if first is not None else None)
        text = "DECIMAL" if first is None else f"DECIMAL({first},{scale})"
        return NormalType(kind="DECIMAL", family=family, text=text, precision=first, scale=scale)
    if family in ("string", "binary"):
        return _sized(node, kind, family, first, dialect)
    if family in ("timestamp", "timestamptz", "time", "timetz"):
        precision = _IMPLIED_PRECISION.get(node.this, first)
        if precision == _DEFAULT_TIME_PRECISION:
            precision = None
        text = kind if precision is None else f"{kind}({precision})"
        return NormalType(kind=kind, family=family, text=text, precision=precision)
    return NormalType(kind=kind, family=family, text=kind)


def _sized(node: exp.DataType, kind: str, family: str, length: int | None,
           dialect: str | None) -> NormalType:
    length = _FIXED_LENGTHS.get(node.this, length)
    if family == "string" and dialect in _UNBOUNDED_STRING_DIALECTS:
        return NormalType(kind="TEXT", family=family, text="TEXT")
    if kind == "CHAR" and length is None and node.this != T.BPCHAR:
        length = 1  # the SQL standard's CHAR means CHAR(1); PostgreSQL's bpchar is unbounded
    if kind == "VARCHAR" and length is None:
        kind = "TEXT"  # an unbounded VARCHAR holds exactly what TEXT holds
    if kind == "TEXT":
        length = None
    text = kind if length is None else f"{kind}({length})"
    return NormalType(kind=kind, family=family, text=text, length=length)
