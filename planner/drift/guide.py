"""The migration guide: for each change, in plain words, what a query that used the old
schema must do. Rendered from the diff alone, never re-deriving it, so it cannot disagree
with the changes it explains. Breaking changes come first; the text is deterministic.
"""

from __future__ import annotations

from collections.abc import Callable

from planner.drift.model import ChangeType, DriftSeverity, SchemaChange, SchemaDiff

_ACTION_WORDS = {
    DriftSeverity.BREAKING: "must change",
    DriftSeverity.WARNING: "should check",
    DriftSeverity.COMPATIBLE: "keeps working",
}


def _add(c: SchemaChange, table: str) -> str:
    if c.new_nullable is False and c.severity == DriftSeverity.BREAKING:
        return (f"New column {c.column} ({c.new_type}, NOT NULL, no default). Reading queries keep "
                f"working; anything that inserts into {table} must now supply {c.column}. "
                f"`SELECT *` returns one more column.")
    if c.new_nullable is False:
        return (f"New column {c.column} ({c.new_type}, NOT NULL with a default). Reading queries "
                f"keep working; writers that omit it get the default. `SELECT *` returns one more "
                f"column.")
    return (f"New column {c.column} ({c.new_type}). Existing queries keep working; "
            f"`SELECT *` returns one more column.")


def _remove(c: SchemaChange, table: str) -> str:
    text = (f"Column {c.column} ({c.old_type}) was removed from {table}. Delete it from select "
            f"lists, WHERE, JOIN, GROUP BY and ORDER BY clauses")
    if c.rename_candidates:
        maybe = " or ".join(c.rename_candidates)
        return text + (f"; if it lives on as {maybe} (the evidence was too weak to say), "
                       f"use that column instead.")
    return text + "; there is no replacement in this version."


def _rename(c: SchemaChange, table: str) -> str:
    return (f"Column {c.old_column} is now {c.new_column} (confidence {c.confidence:.2f}). "
            f"Replace every {c.old_column} with {c.new_column}; to keep result column names, "
            f"select `{c.new_column} AS {c.old_column}`.")


def _type(c: SchemaChange, table: str) -> str:
    head = f"Column {c.column} changed type from {c.old_type} to {c.new_type}"
    if c.new_column and c.new_column != c.column:
        head += f" (as {c.new_column})"
    name = c.new_column or c.column
    if c.severity == DriftSeverity.COMPATIBLE:
        return (f"{head}, a widening. Queries keep working; clients that read it into a "
                f"fixed-size variable must accept the wider {c.new_type} values.")
    if c.severity == DriftSeverity.WARNING:
        return (f"{head}. Queries keep working, but check what this means for them: "
                f"{c.reason}.")
    if c.undecided:
        return (f"{head}, and it is not yet known whether the data fits. Treat it as breaking "
                f"until it has been measured: every value and every literal compared with "
                f"{name} must fit {c.new_type}; where one may not, cast explicitly.")
    return (f"{head}, which breaks queries that rely on the old type. Comparisons, "
            f"functions and arithmetic on {name} that assumed {c.old_type} must be rewritten for "
            f"{c.new_type}, or cast explicitly: `CAST({name} AS {c.old_type})` where the "
            f"values still convert.")


def _nullability(c: SchemaChange, table: str) -> str:
    name = c.new_column or c.column
    if c.new_nullable:
        return (f"Column {name} may now be NULL. Queries that assumed it never is must handle "
                f"NULL: use COALESCE({name}, …) where a value is needed, and note that "
                f"COUNT({name}) counts fewer rows than COUNT(*) and NOT IN with NULLs matches nothing.")
    if c.severity == DriftSeverity.BREAKING:
        return (f"Column {name} is now NOT NULL. Writers must always supply it, and rows that "
                f"hold NULL today must be fixed before the change can apply. Filters on "
                f"`{name} IS NULL` will find nothing.")
    return (f"Column {name} is now NOT NULL; the data holds no NULLs. Reading queries keep "
            f"working; writers must always supply it.")


_RENDER: dict[ChangeType, Callable[[SchemaChange, str], str]] = {
    ChangeType.ADD: _add,
    ChangeType.REMOVE: _remove,
    ChangeType.RENAME: _rename,
    ChangeType.TYPE_CHANGE: _type,
    ChangeType.NULLABILITY_CHANGE: _nullability,
}


def explain(change: SchemaChange, table: str) -> str:
    """One change, in plain words, as the guide shows it."""
    return _RENDER[change.type](change, table)


def migration_guide(diff: SchemaDiff, table: str) -> str:
    """The whole guide for ``table``: a summary line, then one line per change."""
    if not diff.changes:
        return f"{table}: no changes; every existing query keeps working."
    count = len(diff.changes)
    lines = [f"{table}: {count} change{'s' if count != 1 else ''}, overall {diff.severity.value}."]
    ordered = sorted(diff.changes, key=lambda c: -c.severity.rank)  # stable: keeps diff order
    for c in ordered:
        against = f" (against version {c.version})" if c.version else ""
        undecided = " [undecided]" if c.undecided else ""
        lines.append(f"- {c.severity.value}{undecided}, {_ACTION_WORDS[c.severity]}{against}: "
                     f"{explain(c, table)}")
    return "\n".join(lines)
