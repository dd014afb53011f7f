"""Rename detection: pair a removed column with an added one when the evidence says so.

Evidence, each a score in [0, 1]: name similarity (character bigrams and abbreviated tokens:
``cust_name`` ~ ``customer_name``, ``qty`` ~ ``quantity``; see :mod:`names`), type (same
type 1, same family ½; other families are no candidates), position (same ordinal, or the
same surviving neighbours) and, when both columns carry a fingerprint, how much their
values overlap. ``WEIGHTS`` turns them into one confidence; with values at hand they count
most, because data does not lie about identity.

Pairs are only scored within a type family, and only those :mod:`candidates` offers (all of
them unless there are very many); a pair whose best possible score cannot reach the hint
floor is skipped before its names are compared. Pairing is greedy from the most confident
pair down; a pair that ties with a rival for one of its columns is ambiguous, and an
ambiguous rename is not guessed: both stay a removal and an addition, and the removal says
which names competed."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from planner.drift.candidates import candidate_pairs
from planner.drift.fingerprint import similarity
from planner.drift.names import Side, name_similarity

# weight per signal, without and with value fingerprints
WEIGHTS = {"name": 0.6, "type": 0.2, "position": 0.2}
WEIGHTS_WITH_VALUES = {"name": 0.25, "type": 0.15, "position": 0.2, "values": 0.4}
HINT_FLOOR = 0.5  # below this a candidate is not even mentioned
TIE = 0.01


@dataclass(frozen=True, slots=True)
class RenameMatch:
    old: Side
    new: Side
    confidence: float
    evidence: str


@dataclass(frozen=True, slots=True)
class Hint:
    """The best rename candidates of a removed column that was not paired."""

    candidates: tuple[tuple[str, float], ...]  # (added column, confidence), best first
    ambiguous: bool


def _position(a: Side, b: Side) -> float:
    if a.index == b.index:
        return 1.0
    same = (a.before == b.before) + (a.after == b.after)
    return (0.0, 0.4, 0.8)[same]


def _values(a: Side, b: Side) -> float | None:
    left = a.column.stats.fingerprint if a.column.stats else None
    right = b.column.stats.fingerprint if b.column.stats else None
    return similarity(left, right)


@dataclass(frozen=True, slots=True)
class Evidence:
    name: float
    same_type: bool
    position: float
    values: float | None

    def describe(self) -> str:
        where = {1.0: "same position", 0.8: "same neighbours", 0.4: "one neighbour kept"}
        parts = [f"names alike {self.name:.2f}",
                 "same type" if self.same_type else "same type family",
                 where.get(self.position, "moved")]
        if self.values is not None:
            parts.append(f"values overlap {self.values:.2f}")
        return ", ".join(parts)


def _score(a: Side, b: Side, floor: float) -> tuple[float, Evidence] | None:
    same_type = a.type == b.type
    position = _position(a, b)
    values = _values(a, b)
    weights = WEIGHTS if values is None else WEIGHTS_WITH_VALUES
    known = weights["type"] * (1.0 if same_type else 0.5) + weights["position"] * position \
        + (weights["values"] * values if values is not None else 0.0)
    if known + weights["name"] < floor:
        return None  # even identical names could not make this a candidate
    name = name_similarity(a, b)
    return round(known + weights["name"] * name, 4), Evidence(name, same_type, position, values)


_Scored = tuple[float, int, int, Side, Side, Evidence]


def _has_rival(scored: list[_Scored], i: int, taken_old: set[str], taken_new: set[str]) -> bool:
    """Whether another free pair sharing a column of ``scored[i]`` is as confident."""
    conf, _, _, a, b, _ = scored[i]
    for other in scored[i + 1:]:
        if other[0] <= conf - TIE:
            return False  # sorted: nothing further can tie
        oa, ob = other[3].column.name, other[4].column.name
        if (oa == a.column.name or ob == b.column.name) \
                and oa not in taken_old and ob not in taken_new:
            return True
    return False


def pair_renames(removed: list[Side], added: list[Side], threshold: float
                 ) -> tuple[list[RenameMatch], dict[str, Hint]]:
    """Renames at or above ``threshold``, and hints for removed columns left unpaired."""
    floor = min(HINT_FLOOR, threshold)
    scored: list[_Scored] = []
    for a, b in candidate_pairs(removed, added):
        result = _score(a, b, floor)
        if result is not None and result[0] >= floor:
            scored.append((result[0], a.index, b.index, a, b, result[1]))
    scored.sort(key=lambda s: (-s[0], s[1], s[2]))

    taken_old: set[str] = set()
    taken_new: set[str] = set()
    ambiguous: set[str] = set()
    matches: list[RenameMatch] = []
    for i, (conf, _, _, a, b, evidence) in enumerate(scored):
        if conf < threshold:
            break
        if a.column.name in taken_old or b.column.name in taken_new:
            continue
        if _has_rival(scored, i, taken_old, taken_new):
            # Not guessed: neither column of the tie is paired with anything.
            ambiguous.add(a.column.name)
            taken_old.add(a.column.name)
            taken_new.add(b.column.name)
            continue
        taken_old.add(a.column.name)
        taken_new.add(b.column.name)
        matches.append(RenameMatch(a, b, conf, evidence.describe()))

    paired = {m.old.column.name for m in matches}
    matched_new = {m.new.column.name for m in matches}
    candidates: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for conf, _, _, a, b, _ in scored:
        if a.column.name not in paired and b.column.name not in matched_new:
            candidates[a.column.name].append((b.column.name, conf))
    hints = {name: Hint(tuple(c[:3]), name in ambiguous) for name, c in candidates.items()}
    return matches, hints
