"""Schema drift, pure: normalise types, diff schemas, detect renames, judge severity,
number versions and write migration guides. The gateway measures, stores and serves.

    >>> from planner.drift import ColumnSpec, diff_schemas
    >>> diff_schemas([ColumnSpec("id", "int4")], [ColumnSpec("id", "integer")], dialect="postgres").changes
    ()
"""

from planner.drift.diff import check_compatibility, diff_schemas
from planner.drift.fingerprint import minhash, similarity
from planner.drift.guide import explain, migration_guide
from planner.drift.lattice import EDGES, RELATIONS, Edge, relate, widening
from planner.drift.model import (
    ChangeType,
    ColumnSpec,
    ColumnStats,
    DriftInputError,
    DriftSeverity,
    SchemaChange,
    SchemaDiff,
    SchemaVersion,
)
from planner.drift.normalize import NormalType, normalize_type
from planner.drift.versioning import is_new_major, next_version, parse_version

__all__ = [
    "EDGES",
    "RELATIONS",
    "ChangeType",
    "ColumnSpec",
    "ColumnStats",
    "DriftInputError",
    "DriftSeverity",
    "Edge",
    "NormalType",
    "SchemaChange",
    "SchemaDiff",
    "SchemaVersion",
    "check_compatibility",
    "diff_schemas",
    "explain",
    "is_new_major",
    "migration_guide",
    "minhash",
    "next_version",
    "normalize_type",
    "parse_version",
    "relate",
    "similarity",
    "widening",
]
