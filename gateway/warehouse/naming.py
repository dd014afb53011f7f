"""Physical names of gateway-managed tables: the one place that spells the naming rules.

Version N of logical table ``t`` lives in ``t__vN``. A SHADOW version is physically isolated
from what analysts query: on PostgreSQL and DuckDB it lives in the ``spyne_shadow`` schema
(``spyne_shadow.t__vN``); SQLite has no schemas worth the name, so it carries the reserved
prefix instead (``spyne_shadow__t__vN``). Promotion never renames: the shadow table becomes the
ACTIVE one as it is.

The ingestion bookkeeping (landing log, quarantine, idempotency keys, checkpoints) lives in a
second reserved space, ``spyne_ingest`` (schema) / ``spyne_ingest__`` (prefix). Neither space
can hold an external table.

A physical name given to ``registerTable`` is read as the warehouse reads it
(:func:`parse_physical_name`: quotes and brackets removed, the default schema — ``main``,
``public`` — dropped, case folded as the backend folds it) before any check, so
``MAIN."SPYNE_SHADOW__T__V1"``, ``[main].[sqlite_master]`` and ``spyne_shadow."t__v1"`` are all
seen for what they are: :func:`physical_name_problem` refuses the gateway's spaces and every system
catalog, and two spellings of one table share a ``key``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SHADOW_SCHEMA = "spyne_shadow"
SHADOW_PREFIX = "spyne_shadow__"
INGEST_SCHEMA = "spyne_ingest"
INGEST_PREFIX = "spyne_ingest__"

# Backends that have real schemas; everything else gets the prefix.
SCHEMA_BACKENDS = frozenset({"postgresql", "duckdb"})


LOGICAL_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# A logical table may not take a name that reads like the gateway's own spaces or a database's
# system catalog: `sqlite_master` or `pg_tables` in analyst SQL must never mean a catalog table.
RESERVED_PREFIXES = ("spyne_", "sqlite_", "pg_")
RESERVED_NAMES = frozenset({"information_schema"})


def logical_name_problem(name: str) -> str | None:
    """Why ``name`` (lower case) cannot name a logical table, or None when it can."""
    if not LOGICAL_NAME.match(name):
        return ("1 to 63 lower-case letters, digits and underscores, starting with a letter or "
                "underscore")
    if name.startswith(RESERVED_PREFIXES) or name in RESERVED_NAMES:
        return "the spyne_, sqlite_ and pg_ prefixes and information_schema are reserved"
    return None


def managed_name(table: str, version: int) -> str:
    """The ``<table>__v<N>`` rule, without any isolation space."""
    return f"{table}__v{version}"


def shadow_physical_name(table: str, version: int, backend: str) -> str:
    """Where a SHADOW version of ``table`` lives on ``backend`` (a SQLAlchemy backend name)."""
    if backend in SCHEMA_BACKENDS:
        return f"{SHADOW_SCHEMA}.{managed_name(table, version)}"
    return SHADOW_PREFIX + managed_name(table, version)


def ingest_table_name(name: str, backend: str) -> str:
    """A bookkeeping table of ingestion (``landing``, ``quarantine``, ``keys``, ``checkpoints``)."""
    if backend in SCHEMA_BACKENDS:
        return f"{INGEST_SCHEMA}.{name}"
    return INGEST_PREFIX + name


def is_shadow_space(physical_name: str) -> bool:
    """Whether a physical name sits in a space the gateway reserves for itself."""
    lowered = physical_name.lower()
    return any(lowered.startswith(p) for p in (SHADOW_SCHEMA + ".", SHADOW_PREFIX,
                                                INGEST_SCHEMA + ".", INGEST_PREFIX))


# --- physical names of registered tables, in every spelling ------------------------------------

# Per backend: (identifiers fold to lower case when unquoted, names compare case-insensitively,
# the default schema a bare name lives in). PostgreSQL folds unquoted names and compares exactly;
# SQLite, MySQL/MariaDB and DuckDB compare names without regard to case.
_CASE: dict[str, tuple[bool, bool, str | None]] = {
    "postgresql": (True, False, "public"),
    "sqlite": (False, True, "main"),
    "duckdb": (True, True, "main"),
    "mysql": (False, True, None),
    "mariadb": (False, True, None),
}
# Schemas (databases, on MySQL) that hold a warehouse's own catalog, per backend family; a table
# in one of them is never registrable, nor is any table of the gateway's own spaces.
SYSTEM_SCHEMAS = frozenset({
    "information_schema", "pg_catalog", "pg_toast", "pg_temp", "pg_internal",  # PostgreSQL
    "temp",  # SQLite's (and DuckDB's) per-connection schema
    "mysql", "performance_schema", "sys",  # MySQL / MariaDB
    "system",  # DuckDB
    "global_temp",  # Spark
    SHADOW_SCHEMA, INGEST_SCHEMA,
})
SYSTEM_SCHEMA_PREFIXES = ("pg_temp_", "pg_toast_temp_")
# Table names that are a catalog wherever they appear.
SYSTEM_TABLE_PREFIXES = ("sqlite_", "pg_", SHADOW_PREFIX, INGEST_PREFIX, "duckdb_")
_QUOTES = {'"': '"', "`": "`", "[": "]"}


class PhysicalNameError(ValueError):
    """A physical name that cannot be read, or may not be registered (the message says why)."""


@dataclass(frozen=True, slots=True)
class PhysicalName:
    schema: str | None  # None: the backend's default schema
    name: str
    key: str  # what two spellings of the same table share (compare these)

    @property
    def text(self) -> str:
        """The name as stored and introspected: unquoted, the default schema left out."""
        return f"{self.schema}.{self.name}" if self.schema else self.name


def _identifiers(text: str) -> list[tuple[str, bool]]:
    """``a."B".[c]`` -> [("a", False), ("B", True), ("c", True)]; raises PhysicalNameError."""
    parts: list[tuple[str, bool]] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i < n and text[i] in _QUOTES:
            close = _QUOTES[text[i]]
            i += 1
            out = []
            while True:
                if i >= n:
                    raise PhysicalNameError("an identifier's quote is never closed")
                if text[i] == close:
                    if i + 1 < n and text[i + 1] == close:  # a doubled quote is one quote character
                        out.append(close)
                        i += 2
                        continue
                    i += 1
                    break
                out.append(text[i])
                i += 1
            parts.append(("".join(out), True))
        else:
            start = i
            while i < n and text[i] != "." and not text[i].isspace():
                i += 1
            parts.append((text[start:i], False))
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            break
        if text[i] != ".":
            raise PhysicalNameError("write a physical name as table or schema.table")
        i += 1
    return parts


def parse_physical_name(physical_name: str, backend: str) -> PhysicalName:
    """The table ``physical_name`` means on ``backend``, however it was spelled."""
    folds, insensitive, default_schema = _CASE.get(backend, (False, True, None))
    parts = _identifiers(physical_name.strip())
    if not 1 <= len(parts) <= 2 or any(not p for p, _ in parts):
        raise PhysicalNameError("write a physical name as table or schema.table")
    if any(ch in p for p, _ in parts for ch in ('"', "`", "[", "]", ".", "\x00")):
        raise PhysicalNameError("quotes, brackets, dots and NUL inside an identifier are not supported")
    names = [p.lower() if folds and not quoted else p for p, quoted in parts]
    schema, name = (names[0], names[1]) if len(names) == 2 else (None, names[0])
    if schema is not None and default_schema is not None and schema.lower() == default_schema:
        schema = None
    key = f"{schema}.{name}" if schema else name
    return PhysicalName(schema, name, key.lower() if insensitive else key)


def physical_name_problem(physical: PhysicalName) -> str | None:
    """Why a table may not be registered under ``physical`` (a gateway space or a system catalog)."""
    schema = (physical.schema or "").lower()
    name = physical.name.lower()
    if schema in SYSTEM_SCHEMAS or schema.startswith(SYSTEM_SCHEMA_PREFIXES):
        return f"the schema {physical.schema!r} belongs to the warehouse's system catalog or to the gateway"
    if name.startswith(SYSTEM_TABLE_PREFIXES) or name in RESERVED_NAMES:
        return (f"{physical.name!r} is a system catalog or a gateway-managed table "
                "(the sqlite_, pg_, duckdb_, spyne_shadow__ and spyne_ingest__ names are reserved)")
    return None
