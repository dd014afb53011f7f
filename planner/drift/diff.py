"""Schema diffs: what changed between two column lists, and how much it matters to readers.

Severity, from the point of view of a query written against the old schema:

==================  ===========================================================================
``COMPATIBLE``      add a nullable column; widen a type; allow NULL in a NOT NULL column
``WARNING``         add a NOT NULL column with a default; a widening readers still notice
                    (``timestamp → timestamptz``); narrow a type the data is measured to fit;
                    forbid NULL where the data is measured to hold none
``BREAKING``        remove; rename; add NOT NULL without a default; narrow beyond the data;
                    change meaning (``text → integer``); and — flagged ``undecided`` — any
                    narrowing or NOT NULL the statistics given cannot vouch for
==================  ===========================================================================

Without statistics the engine cannot know that data fits, and the gate must not let a
possibly destructive change through on a guess, so it answers ``BREAKING`` and says it is
undecided; the gateway can measure the data and diff again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from planner.drift.fit import DOES_NOT_FIT, FITS, fits
from planner.drift.lattice import (
    INCOMPATIBLE,
    LOSSY,
    NARROW,
    SAME,
    UNDECIDED,
    WIDEN,
    relate,
)
from planner.drift.model import (
    ChangeType,
    ColumnSpec,
    DriftInputError,
    DriftSeverity,
    SchemaChange,
    SchemaDiff,
    SchemaVersion,
)
from planner.drift.names import Side, side
from planner.drift.normalize import NormalType, normalize_type
from planner.drift.renames import Hint, pair_renames

C, W, B = DriftSeverity.COMPATIBLE, DriftSeverity.WARNING, DriftSeverity.BREAKING


def diff_schemas(old: Sequence[ColumnSpec], new: Sequence[ColumnSpec], *,
                 dialect: str | None = None, rename_threshold: float = 0.7) -> SchemaDiff:
    """The changes from ``old`` to ``new``, each with its severity; the worst is the diff's.

    >>> d = diff_schemas([ColumnSpec("id", "int4")], [ColumnSpec("id", "BIGINT")], dialect="postgres")
    >>> [(c.type.value, c.severity.value) for c in d.changes]
    [('TYPE_CHANGE', 'COMPATIBLE')]
    """
    _require_unique(old, "old")
    _require_unique(new, "new")
    old_types = [normalize_type(c.type, dialect) for c in old]
    new_types = [normalize_type(c.type, dialect) for c in new]
    old_names = {c.name for c in old}
    new_names = {c.name for c in new}

    removed = _sides(old, old_types, new_names)
    added = _sides(new, new_types, old_names)
    matches, hints = pair_renames(removed, added, rename_threshold) if removed and added \
        else ([], {})
    renamed = {m.old.column.name: m for m in matches}
    renamed_to = {m.new.column.name for m in matches}

    new_by_name = {c.name: (c, t) for c, t in zip(new, new_types, strict=True)}
    changes: list[SchemaChange] = []
    for col, typ in zip(old, old_types, strict=True):
        if col.name in new_by_name:
            now, now_type = new_by_name[col.name]
            changes.extend(_column_changes(col, typ, now, now_type))
        elif col.name in renamed:
            m = renamed[col.name]
            changes.append(_rename(m.old, m.new, m.confidence, m.evidence))
            changes.extend(_column_changes(col, typ, m.new.column, m.new.type))
        else:
            changes.append(_remove(col, typ, hints.get(col.name)))
    for col, typ in zip(new, new_types, strict=True):
        if col.name not in old_names and col.name not in renamed_to:
            changes.append(_add(col, typ))
    return SchemaDiff.of(tuple(changes))


def check_compatibility(history: Sequence[SchemaVersion | Sequence[ColumnSpec]],
                        proposed: Sequence[ColumnSpec], *, dialect: str | None = None,
                        rename_threshold: float = 0.7) -> SchemaDiff:
    """Diff ``proposed`` against every earlier version still in use, not only the last.

    Each change says which version it was measured against; the worst severity over all
    versions is the answer. Unlabelled versions are called ``#1``, ``#2``, … in order.
    """
    changes: list[SchemaChange] = []
    verdicts: list[tuple[str, DriftSeverity]] = []
    for i, entry in enumerate(history):
        version = entry if isinstance(entry, SchemaVersion) \
            else SchemaVersion(f"#{i + 1}", tuple(entry))
        diff = diff_schemas(version.columns, proposed, dialect=dialect,
                            rename_threshold=rename_threshold)
        verdicts.append((version.version, diff.severity))
        changes.extend(replace(c, version=version.version) for c in diff.changes)
    return SchemaDiff.of(tuple(changes), tuple(verdicts))


def _require_unique(columns: Sequence[ColumnSpec], which: str) -> None:
    seen: set[str] = set()
    for c in columns:
        if c.name in seen:
            raise DriftInputError(f"The {which} schema names column {c.name!r} twice; "
                                  "give each column one entry.")
        seen.add(c.name)


def _sides(columns: Sequence[ColumnSpec], types: list[NormalType],
           other_names: set[str]) -> list[Side]:
    """Unmatched columns of one side, with their nearest surviving neighbours."""
    survivors = [c.name if c.name in other_names else None for c in columns]
    before: list[str | None] = []
    last: str | None = None
    for name in survivors:
        before.append(last)
        last = name or last
    after: list[str | None] = [None] * len(columns)
    last = None
    for i in range(len(columns) - 1, -1, -1):
        after[i] = last
        last = survivors[i] or last
    return [side(c, t, c.position if c.position is not None else i, before[i], after[i])
            for i, (c, t) in enumerate(zip(columns, types, strict=True))
            if survivors[i] is None]


def _rename(old: Side, new: Side, confidence: float, evidence: str) -> SchemaChange:
    return SchemaChange(
        type=ChangeType.RENAME, column=old.column.name, old_column=old.column.name,
        new_column=new.column.name, old_type=old.type.text, new_type=new.type.text,
        severity=B, confidence=confidence,
        reason=f"{old.column.name} is now called {new.column.name} "
               f"(confidence {confidence:.2f}: {evidence}); queries naming it fail")


def _remove(col: ColumnSpec, typ: NormalType, hint: Hint | None) -> SchemaChange:
    reason = f"{col.name} no longer exists; queries naming it fail"
    confidence = None
    candidates: tuple[str, ...] = ()
    if hint is not None and hint.candidates:
        candidates = tuple(n for n, _ in hint.candidates)
        names = " or ".join(f"{n} ({c:.2f})" for n, c in hint.candidates)
        confidence = hint.candidates[0][1]
        reason += (f"; it may have been renamed to {names}, but the evidence is ambiguous"
                   if hint.ambiguous else
                   f"; it may have been renamed to {names}, below the rename threshold")
    return SchemaChange(type=ChangeType.REMOVE, column=col.name, old_column=col.name,
                        new_column=None, old_type=typ.text, new_type=None, severity=B,
                        reason=reason, confidence=confidence, old_nullable=col.nullable,
                        rename_candidates=candidates)


def _add(col: ColumnSpec, typ: NormalType) -> SchemaChange:
    if col.nullable:
        severity, reason = C, f"{col.name} is new and nullable; existing queries are unaffected"
    elif col.default is not None:
        severity, reason = W, (f"{col.name} is new and NOT NULL with default {col.default}; "
                               "existing rows and writers that omit it get the default")
    else:
        severity, reason = B, (f"{col.name} is new and NOT NULL without a default; existing rows "
                               "have no value for it and writers that omit it fail")
    return SchemaChange(type=ChangeType.ADD, column=col.name, old_column=None,
                        new_column=col.name, old_type=None, new_type=typ.text,
                        severity=severity, reason=reason, new_nullable=col.nullable)


def _column_changes(old: ColumnSpec, old_type: NormalType, new: ColumnSpec,
                    new_type: NormalType) -> list[SchemaChange]:
    out: list[SchemaChange] = []
    rel = relate(old_type, new_type)
    renamed_to = new.name if new.name != old.name else None
    if rel.relation != SAME:
        severity, undecided, why = _type_severity(rel.relation, rel.check, rel.floor,
                                                  old_type, new_type, old, new)
        note = f" ({rel.note})" if rel.note else ""
        out.append(SchemaChange(
            type=ChangeType.TYPE_CHANGE, column=old.name, old_column=old.name,
            new_column=renamed_to or old.name, old_type=old_type.text, new_type=new_type.text,
            severity=severity, undecided=undecided,
            reason=f"{old.name}: {old_type.text} → {new_type.text} is {why}{note}"))
    if old.nullable != new.nullable:
        severity, undecided, why = _nullability(old, new)
        out.append(SchemaChange(
            type=ChangeType.NULLABILITY_CHANGE, column=old.name, old_column=old.name,
            new_column=renamed_to or old.name, old_type=old_type.text, new_type=new_type.text,
            severity=severity, undecided=undecided, reason=why,
            old_nullable=old.nullable, new_nullable=new.nullable))
    return out


def _type_severity(relation: str, check: str | None, floor: str | None, old_type: NormalType,
                   new_type: NormalType, old: ColumnSpec, new: ColumnSpec
                   ) -> tuple[DriftSeverity, bool, str]:
    if relation == WIDEN:
        return (DriftSeverity(floor) if floor else C), False, "a widening"
    if relation == INCOMPATIBLE:
        return B, False, "a change of meaning"
    if relation == UNDECIDED:
        return B, True, "undecided: one of the types could not be read"
    assert relation == NARROW
    if check == LOSSY:
        return B, False, "a narrowing that always loses information"
    verdict, why = fits(check, old_type, new_type, old.stats or new.stats)
    if verdict == FITS:
        return W, False, f"a narrowing the data still fits: {why}"
    if verdict == DOES_NOT_FIT:
        return B, False, f"a narrowing beyond the data: {why}"
    return B, True, f"a narrowing, undecided ({why}); treated as breaking until measured"


def _nullability(old: ColumnSpec, new: ColumnSpec) -> tuple[DriftSeverity, bool, str]:
    if new.nullable:
        return C, False, (f"{old.name} now allows NULL; queries that assumed a value is always "
                          "present should handle NULL")
    stats = old.stats or new.stats
    nulls = stats.null_count if stats else None
    if nulls is None:
        return B, True, (f"{old.name} is now NOT NULL; whether existing rows hold NULL was not "
                         "measured, so it is treated as breaking until it is")
    if nulls == 0:
        return W, False, f"{old.name} is now NOT NULL; the data holds no NULLs (measured)"
    return B, False, f"{old.name} is now NOT NULL but {nulls} rows hold NULL"
