"""The type-widening lattice, as data: which type changes widen, narrow, or change meaning.

Three tables own the rule:

* ``INTEGER_BITS`` and ``FLOAT_DIGITS`` describe each numeric kind's value domain; with
  decimals' precision and scale they make :func:`domain`. One numeric type widens into
  another exactly when the new domain holds every value of the old one (range, digits after
  the point, significant digits for floats). So ``SMALLINT → INT``, ``INT → DECIMAL(12,2)``
  and ``INT → DOUBLE`` widen, ``BIGINT → DOUBLE`` and ``DECIMAL(10,2) → INT`` narrow.
* ``EDGES`` says, for each pair of families, how the relation is decided: by a generic rule
  (``numeric`` domains, ``length``, fractional-second ``precision``, array ``element``,
  ``interchangeable`` kinds) or by a fixed relation. A narrowing edge names the check that
  can prove the data still fits (``NUMERIC``, ``LENGTH``), or says none can
  (``UNVERIFIABLE``: undecided until someone looks) or that it always loses something
  (``LOSSY``). A widening edge may carry a floor severity when readers still notice.
* A pair of families absent from ``EDGES`` changes meaning (``text → integer``,
  ``timestamp → boolean``): ``INCOMPATIBLE``. A type nobody could parse is ``UNDECIDED``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from planner.drift.normalize import NormalType

SAME, WIDEN, NARROW, INCOMPATIBLE, UNDECIDED = "SAME", "WIDEN", "NARROW", "INCOMPATIBLE", "UNDECIDED"
RELATIONS = (SAME, WIDEN, NARROW, INCOMPATIBLE, UNDECIDED)

# What can prove that a narrowing still fits the data.
NUMERIC, LENGTH, UNVERIFIABLE, LOSSY = "NUMERIC", "LENGTH", "UNVERIFIABLE", "LOSSY"

# kind -> (bits, signed)
INTEGER_BITS: dict[str, tuple[int, bool]] = {
    "TINYINT": (8, True), "SMALLINT": (16, True), "MEDIUMINT": (24, True), "INT": (32, True),
    "BIGINT": (64, True), "INT128": (128, True), "INT256": (256, True),
    "UTINYINT": (8, False), "USMALLINT": (16, False), "UMEDIUMINT": (24, False),
    "UINT": (32, False), "UBIGINT": (64, False), "UINT128": (128, False), "UINT256": (256, False),
}

# kind -> (significant decimal digits that survive a round trip, largest finite magnitude)
FLOAT_DIGITS: dict[str, tuple[int, Decimal]] = {
    "FLOAT": (6, Decimal("3.4028234663852886E+38")),
    "DOUBLE": (15, Decimal("1.7976931348623157E+308")),
}

UUID_LENGTH = 36  # the canonical text form, for uuid → string
# Kinds that pad every value to their length (uuids are always 36 characters long).
FIXED_LENGTH_KINDS = frozenset({"CHAR", "BINARY", "UUID"})


@dataclass(frozen=True, slots=True)
class Edge:
    old: str  # family
    new: str  # family
    rule: str  # "numeric" | "length" | "precision" | "element" | "interchangeable" | a relation
    check: str | None = None  # for a fixed NARROW: UNVERIFIABLE or LOSSY
    floor: str | None = None  # a widening readers still notice: "WARNING"
    note: str = ""


EDGES: tuple[Edge, ...] = (
    Edge("integer", "integer", "numeric"),
    Edge("integer", "decimal", "numeric"),
    Edge("integer", "float", "numeric"),
    Edge("decimal", "integer", "numeric"),
    Edge("decimal", "decimal", "numeric"),
    Edge("decimal", "float", "numeric"),
    Edge("float", "integer", "numeric"),
    Edge("float", "decimal", "numeric"),
    Edge("float", "float", "numeric"),
    Edge("string", "string", "length"),
    Edge("binary", "binary", "length"),
    Edge("uuid", "string", "length", note="values are now compared as text"),
    Edge("date", "timestamp", WIDEN, note="each date becomes midnight of that day"),
    Edge("date", "timestamptz", WIDEN, floor="WARNING",
         note="each date becomes midnight in the session's time zone"),
    Edge("timestamp", "timestamptz", WIDEN, floor="WARNING",
         note="existing values are read as being in the session's time zone"),
    Edge("timestamptz", "timestamp", NARROW, check=LOSSY, note="the time zone offset is lost"),
    Edge("timestamp", "date", NARROW, check=UNVERIFIABLE, note="the time of day is cut off"),
    Edge("timestamptz", "date", NARROW, check=LOSSY, note="the time of day and the zone are lost"),
    Edge("timestamp", "timestamp", "precision"),
    Edge("timestamptz", "timestamptz", "precision"),
    Edge("time", "time", "precision"),
    Edge("timetz", "timetz", "precision"),
    Edge("time", "timetz", WIDEN, floor="WARNING",
         note="existing values are read as being in the session's time zone"),
    Edge("timetz", "time", NARROW, check=LOSSY, note="the time zone offset is lost"),
    Edge("json", "json", "interchangeable", note="the same documents, stored differently"),
    Edge("array", "array", "element"),
)

EDGE_INDEX: dict[tuple[str, str], Edge] = {(e.old, e.new): e for e in EDGES}


@dataclass(frozen=True, slots=True)
class Domain:
    """The values a numeric type holds exactly; None bounds are unbounded."""

    lo: Decimal | None
    hi: Decimal | None
    scale: int | None  # digits after the point it keeps; None: any
    digits: int | None  # significant digits kept by an approximate type; None: exact


@dataclass(frozen=True, slots=True)
class Relation:
    relation: str
    edge: tuple[str, str] | None = None  # the EDGES row that decided, None for identity/default
    check: str | None = None  # for NARROW: NUMERIC | LENGTH | UNVERIFIABLE | LOSSY
    floor: str | None = None
    note: str = ""


def domain(t: NormalType) -> Domain:
    if t.kind in INTEGER_BITS:
        bits, signed = INTEGER_BITS[t.kind]
        if signed:
            return Domain(Decimal(-(2 ** (bits - 1))), Decimal(2 ** (bits - 1) - 1), 0, None)
        return Domain(Decimal(0), Decimal(2**bits - 1), 0, None)
    if t.kind in FLOAT_DIGITS:
        digits, biggest = FLOAT_DIGITS[t.kind]
        return Domain(-biggest, biggest, None, digits)
    if t.precision is None:  # an unbounded DECIMAL
        return Domain(None, None, None, None)
    scale = t.scale or 0
    hi = Decimal(10) ** (t.precision - scale) - Decimal(10) ** -scale
    return Domain(-hi, hi, scale, None)


def significant_digits(d: Domain) -> int | None:
    """The most significant digits a value of ``d`` can carry; None: unlimited."""
    if d.digits is not None:
        return d.digits
    if d.hi is None or d.lo is None or d.scale is None:
        return None
    whole = len(str(int(max(abs(d.lo), abs(d.hi)))))
    return whole + d.scale


def holds(new: Domain, old: Domain) -> bool:
    """Whether every value of ``old`` is a value of ``new``, exactly."""
    if new.lo is not None and (old.lo is None or old.lo < new.lo):
        return False
    if new.hi is not None and (old.hi is None or old.hi > new.hi):
        return False
    if new.scale is not None and (old.scale is None or old.scale > new.scale):
        return False
    if new.digits is None:
        return old.digits is None  # an approximate value has no exact decimal home
    needed = significant_digits(old)
    return needed is not None and needed <= new.digits


def _length(t: NormalType) -> int | None:
    return UUID_LENGTH if t.family == "uuid" else t.length


def _by_rule(edge: Edge, old: NormalType, new: NormalType) -> Relation:
    key = (edge.old, edge.new)
    if edge.rule == "numeric":
        if holds(domain(new), domain(old)):
            return Relation(WIDEN, key, note=edge.note)
        return Relation(NARROW, key, check=NUMERIC, note=edge.note)
    if edge.rule == "length":
        was, now = _length(old), _length(new)
        if new.kind in FIXED_LENGTH_KINDS and old.kind not in FIXED_LENGTH_KINDS:
            # Shorter values get padded: they change even when they fit.
            return Relation(NARROW, key, check=LENGTH, note="shorter values are now padded")
        if now is None or (was is not None and was <= now):
            return Relation(WIDEN, key, note=edge.note)
        return Relation(NARROW, key, check=LENGTH, note=edge.note)
    if edge.rule == "precision":
        was, now = old.precision or 6, new.precision or 6
        if was <= now:
            return Relation(WIDEN, key, note=edge.note)
        return Relation(NARROW, key, check=UNVERIFIABLE, note="fractional seconds are cut off")
    if edge.rule == "interchangeable":
        return Relation(WIDEN, key, note=edge.note)
    if edge.rule == "element":
        if old.element is None or new.element is None:
            return Relation(UNDECIDED, key, note="an array's element type is unknown")
        inner = relate(old.element, new.element)
        if inner.relation == NARROW:
            return Relation(NARROW, key, check=UNVERIFIABLE,
                            note="array elements narrow; element statistics are not measured")
        return Relation(inner.relation, key, floor=inner.floor, note=inner.note)
    return Relation(edge.rule, key, check=edge.check, floor=edge.floor, note=edge.note)


def relate(old: NormalType, new: NormalType) -> Relation:
    """How ``new`` relates to ``old``, with the edge that decided it."""
    if old == new:
        return Relation(SAME)
    if not old.known or not new.known:
        return Relation(UNDECIDED, note="the type could not be read")
    edge = EDGE_INDEX.get((old.family, new.family))
    if edge is not None:
        return _by_rule(edge, old, new)
    if old.family == "other" and old.kind == new.kind:
        return Relation(UNDECIDED, note=f"the drift engine does not model {old.kind} parameters")
    return Relation(INCOMPATIBLE, note=f"{old.family} values do not mean {new.family} values")


def widening(old: NormalType, new: NormalType) -> str:
    """``SAME``, ``WIDEN``, ``NARROW``, ``INCOMPATIBLE`` or ``UNDECIDED`` (an unreadable type).

    >>> from planner.drift.normalize import normalize_type as t
    >>> widening(t("smallint"), t("int4", "postgres"))
    'WIDEN'
    >>> widening(t("text"), t("integer"))
    'INCOMPATIBLE'
    """
    return relate(old, new).relation
