"""Between the pure drift engine and the warehouse: column lists in, measured diffs out.

The engine answers ``BREAKING`` (flagged undecided) for a narrowing or a new NOT NULL it has no
statistics for. Here the gateway diffs once without statistics, measures exactly the columns
the engine could not decide (and fingerprints the columns a rename could involve), and diffs
again with what it measured. Stored changes are the engine's changes, flattened.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import fields, replace

from gateway.drift_records import StoredChange
from gateway.ingestion_records import ContractColumn
from gateway.records import ColumnInfo
from gateway.services.contract_rules import DEFAULT_TEXT_LIMIT, canonical_type
from gateway.warehouse.column_stats import Measure
from planner.drift import (
    ChangeType,
    ColumnSpec,
    ColumnStats,
    SchemaChange,
    SchemaDiff,
    diff_schemas,
    normalize_type,
)

RENAME_THRESHOLD = 0.7
_MEASURE_BY_FAMILY = {"integer": Measure.NUMBER, "decimal": Measure.NUMBER, "float": Measure.NUMBER,
                      "string": Measure.TEXT, "binary": Measure.TEXT}


def specs_of(columns: Iterable[ColumnInfo]) -> list[ColumnSpec]:
    return [ColumnSpec(c.name, c.type, c.nullable, c.default, i) for i, c in enumerate(columns)]


def contract_specs(columns: Iterable[ContractColumn]) -> list[ColumnSpec]:
    """Contract columns in engine-neutral spelling (``TEXT`` with a length is ``VARCHAR(n)``)."""
    return [ColumnSpec(c.name, f"VARCHAR({c.max_length})" if c.type == "TEXT" and c.max_length else c.type,
                       c.nullable, c.default, i) for i, c in enumerate(columns)]


def as_contract_would(specs: Iterable[ColumnSpec]) -> list[ColumnSpec]:
    """Proposed columns spelled as ``registerContract`` would store them (plain TEXT has the
    default limit there), so a dry run compares like with like."""
    out: list[ColumnSpec] = []
    for s in specs:
        parsed = canonical_type(s.type)
        if parsed is None:
            out.append(s)  # the engine reads it as it can; registering would refuse it
            continue
        ctype, limit = parsed
        if ctype == "TEXT":
            limit = limit or DEFAULT_TEXT_LIMIT
        out.append(replace(s, type=f"VARCHAR({limit})" if ctype == "TEXT" else ctype))
    return out


def merge_stats(a: ColumnStats | None, b: ColumnStats | None) -> ColumnStats | None:
    """Field by field, ``a`` first: a fingerprint from one measurement, counts from another."""
    if a is None or b is None:
        return a or b
    return ColumnStats(**{f.name: getattr(a, f.name) if getattr(a, f.name) is not None
                          else getattr(b, f.name) for f in fields(ColumnStats)})


def with_stats(specs: Sequence[ColumnSpec], stats: Mapping[str, ColumnStats]) -> list[ColumnSpec]:
    return [replace(s, stats=merge_stats(s.stats, stats.get(s.name))) for s in specs]


def undecided(diff: SchemaDiff, dialect: str | None) -> dict[str, tuple[str, Measure]]:
    """Old column → (its name in the new schema, what to measure) for each undecided change."""
    out: dict[str, tuple[str, Measure]] = {}
    for c in diff.changes:
        if not c.undecided or c.type not in (ChangeType.TYPE_CHANGE, ChangeType.NULLABILITY_CHANGE):
            continue
        family = normalize_type(c.old_type or "", dialect).family if c.old_type else "unknown"
        measure = _MEASURE_BY_FAMILY.get(family, Measure.NULLS) \
            if c.type is ChangeType.TYPE_CHANGE else Measure.NULLS
        previous = out.get(c.column)
        if previous is None or previous[1] is Measure.NULLS:
            out[c.column] = (c.new_column or c.column, measure)
    return out


def rename_sides(diff: SchemaDiff) -> tuple[list[str], list[str]]:
    """Old and new names a rename could involve: removals, additions and detected renames."""
    old = [c.column for c in diff.changes if c.type in (ChangeType.REMOVE, ChangeType.RENAME)]
    new = [c.new_column for c in diff.changes
           if c.type in (ChangeType.ADD, ChangeType.RENAME) and c.new_column]
    return old, new


def needs_values(diff: SchemaDiff) -> bool:
    old, new = rename_sides(diff)
    return bool(old) and bool(new)


def diff(old: Sequence[ColumnSpec], new: Sequence[ColumnSpec], dialect: str | None) -> SchemaDiff:
    return diff_schemas(old, new, dialect=dialect, rename_threshold=RENAME_THRESHOLD)


def stored(change: SchemaChange) -> StoredChange:
    return StoredChange(
        type=change.type.value, column=change.column, old_column=change.old_column,
        new_column=change.new_column, old_type=change.old_type, new_type=change.new_type,
        severity=change.severity.value, reason=change.reason,
        confidence=round(change.confidence, 4) if change.confidence is not None else None,
        undecided=change.undecided, against_version=change.version)


def fingerprint(*parts: object) -> str:
    """A stable digest of a detection, so that the same one is not stored twice."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()
