"""The vocabulary of schema drift: change types, severities, columns, changes and diffs.

Everything here is a frozen value. The gateway builds :class:`ColumnSpec` lists from the
catalog or from warehouse introspection, optionally with :class:`ColumnStats` it measured,
and stores or serves the :class:`SchemaDiff` it gets back.

Errors::

    PlannerError
    └── DriftInputError          INVALID_INPUT (duplicate column, unreadable version, …)
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from planner.errors import PlannerError


class DriftInputError(PlannerError):
    """A schema or version given to the drift engine cannot be read as given."""

    code = "INVALID_INPUT"


class ChangeType(StrEnum):
    ADD = "ADD"
    REMOVE = "REMOVE"
    RENAME = "RENAME"
    TYPE_CHANGE = "TYPE_CHANGE"
    NULLABILITY_CHANGE = "NULLABILITY_CHANGE"


# Order matters for the promotion gate: max() over severities must give the worst one, and
# the str values would sort alphabetically (BREAKING first) if we let them.
_SEVERITY_RANK = {"COMPATIBLE": 0, "WARNING": 1, "BREAKING": 2}


class DriftSeverity(StrEnum):
    COMPATIBLE = "COMPATIBLE"
    WARNING = "WARNING"
    BREAKING = "BREAKING"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self.value]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, DriftSeverity):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, DriftSeverity):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, DriftSeverity):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, DriftSeverity):
            return NotImplemented
        return self.rank >= other.rank



Number = int | float | Decimal


@dataclass(frozen=True, slots=True)
class ColumnStats:
    """Facts about a column's data that only the warehouse knows; every field is optional.

    ``max_scale`` is the largest number of digits after the decimal point among the values
    (0 when every value is integral). ``fingerprint`` is a MinHash signature made with
    :func:`planner.drift.fingerprint.minhash` over the (stringified) values, so two columns
    holding the same values have signatures that agree in most positions.
    """

    row_count: int | None = None
    null_count: int | None = None
    min_value: Number | None = None
    max_value: Number | None = None
    max_length: int | None = None
    max_scale: int | None = None
    distinct_count: int | None = None
    fingerprint: tuple[int, ...] | None = None


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    name: str
    type: str  # as the source spells it: "int4", "VARCHAR(20)", "timestamp with time zone"
    nullable: bool = True
    default: str | None = None  # the default expression's SQL text, None when there is none
    position: int | None = None  # ordinal position; the index in the list when None
    stats: ColumnStats | None = None


@dataclass(frozen=True, slots=True)
class SchemaVersion:
    """A labelled schema, for :func:`check_compatibility` to say which version a change breaks."""

    version: str
    columns: tuple[ColumnSpec, ...]


@dataclass(frozen=True, slots=True)
class SchemaChange:
    """One change. ``column`` is the name a query written against the old schema used
    (the new name for ``ADD``, which has no old one).

    ``undecided`` is True when the engine could not decide from what it was given (no
    statistics for a narrowing, a type it does not know) and chose the safe severity,
    ``BREAKING``; measuring the data can lower it. ``confidence`` is set for renames and
    for removals that had a rename candidate below the threshold (or tied with another),
    whose names are in ``rename_candidates``.
    """

    type: ChangeType
    column: str
    old_column: str | None
    new_column: str | None
    old_type: str | None
    new_type: str | None
    severity: DriftSeverity
    reason: str
    confidence: float | None = None
    undecided: bool = False
    old_nullable: bool | None = None
    new_nullable: bool | None = None
    version: str | None = None  # the earlier version this change was measured against
    rename_candidates: tuple[str, ...] = ()  # for REMOVE: added columns it may have become


@dataclass(frozen=True, slots=True)
class SchemaDiff:
    changes: tuple[SchemaChange, ...]
    severity: DriftSeverity
    # (version, worst severity against it) for each version a compatibility check looked at
    versions: tuple[tuple[str, DriftSeverity], ...] = ()

    @property
    def undecided(self) -> bool:
        return any(c.undecided for c in self.changes)

    @staticmethod
    def of(changes: tuple[SchemaChange, ...],
           versions: tuple[tuple[str, DriftSeverity], ...] = ()) -> SchemaDiff:
        worst = max((c.severity for c in changes), default=DriftSeverity.COMPATIBLE)
        return SchemaDiff(changes=changes, severity=worst, versions=versions)
