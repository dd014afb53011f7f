"""Physical names of gateway-managed tables: the one place that spells the naming rules.

Version N of logical table ``t`` lives in ``t__vN``. A SHADOW version is physically isolated
from what analysts query: on PostgreSQL and DuckDB it lives in the ``spyne_shadow`` schema
(``spyne_shadow.t__vN``); SQLite has no schemas worth the name, so it carries the reserved
prefix instead (``spyne_shadow__t__vN``). Promotion never renames: the shadow table becomes the
ACTIVE one as it is.

The ingestion bookkeeping (landing log, quarantine, idempotency keys, checkpoints) lives in a
second reserved space, ``spyne_ingest`` (schema) / ``spyne_ingest__`` (prefix). Neither space
can hold an external table.
"""

from __future__ import annotations

import re

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
