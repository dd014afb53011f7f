"""Rename detection: pair a removed column with an added one when the evidence says so.

Evidence, each a score in [0, 1]: name similarity (character bigrams and abbreviated tokens:
``cust_name`` ~ ``customer_name``, ``qty`` ~ ``quantity``), type (same type 1, same family ½; other families are no
candidates), position (same ordinal, or the same surviving neighbours) and, when both
columns carry a fingerprint, how much their values overlap. ``WEIGHTS`` turns them into one
confidence; with values at hand they count most, because data does not lie about identity.

Pairs are only scored within a type family, and a pair whose best possible score cannot
reach ``HINT_FLOOR`` is skipped before its names are compared, so the work stays near
linear in the number of columns. Pairing is greedy from the most confident pair down; a pair
that ties with a rival for one of its columns is ambiguous, and an ambiguous rename is not
guessed: both stay a removal and an addition, and the removal says which names competed.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from planner.drift.fingerprint import similarity
from planner.drift.model import ColumnSpec
from planner.drift.normalize import NormalType

# weight per signal, without and with value fingerprints
WEIGHTS = {"name": 0.6, "type": 0.2, "position": 0.2}
WEIGHTS_WITH_VALUES = {"name": 0.25, "type": 0.15, "position": 0.2, "values": 0.4}
HINT_FLOOR = 0.5  # below this a candidate is not even mentioned
TIE = 0.01
PREFIX_TOKEN = 0.8  # "cust" for "customer": an abbreviation is good but not equal evidence
SUBSEQUENCE_TOKEN = 0.7  # "qty" for "quantity", "amt" for "amount": weaker still
MIN_ABBREVIATION = 3

_TOKEN = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")


@dataclass(frozen=True, slots=True)
class Side:
    """A removed or added column with what pairing needs precomputed."""

    column: ColumnSpec
    type: NormalType
    index: int  # ordinal position
    before: str | None  # nearest surviving column before it, None at the start
    after: str | None  # nearest surviving column after it, None at the end
    tokens: tuple[str, ...]
    bigrams: frozenset[str]


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


def side(column: ColumnSpec, type_: NormalType, index: int,
         before: str | None, after: str | None) -> Side:
    lowered = column.name.lower()
    flat = re.sub(r"[^a-z0-9]", "", lowered)
    bigrams = frozenset(flat[i:i + 2] for i in range(len(flat) - 1)) or frozenset({flat})
    tokens = tuple(t.lower() for t in _TOKEN.findall(column.name)) or (lowered,)
    return Side(column, type_, index, before, after, tokens, bigrams)


def name_similarity(a: Side, b: Side) -> float:
    """The better of bigram overlap (Dice) and token agreement allowing abbreviations."""
    shared = len(a.bigrams & b.bigrams)
    dice = 2 * shared / (len(a.bigrams) + len(b.bigrams))
    return max(dice, _token_score(a.tokens, b.tokens))


def _token_score(left: tuple[str, ...], right: tuple[str, ...]) -> float:
    if not left or not right:
        return 0.0
    total = 0.0
    remaining = list(right)
    for token in left:
        best, best_i = 0.0, -1
        for i, other in enumerate(remaining):
            if token == other:
                best, best_i = 1.0, i
                break
            short, long_ = sorted((token, other), key=len)
            if len(short) < MIN_ABBREVIATION or short[0] != long_[0]:
                continue
            if long_.startswith(short) and best < PREFIX_TOKEN:
                best, best_i = PREFIX_TOKEN, i
            elif best < SUBSEQUENCE_TOKEN and _is_subsequence(short, long_):
                best, best_i = SUBSEQUENCE_TOKEN, i
        if best_i >= 0:
            remaining.pop(best_i)
        total += best
    return total / max(len(left), len(right))


def _is_subsequence(short: str, long_: str) -> bool:
    letters = iter(long_)
    return all(ch in letters for ch in short)


def _position(a: Side, b: Side) -> float:
    if a.index == b.index:
        return 1.0
    same = (a.before == b.before) + (a.after == b.after)
    return (0.0, 0.4, 0.8)[same]


def _values(a: Side, b: Side) -> float | None:
    left = a.column.stats.fingerprint if a.column.stats else None
    right = b.column.stats.fingerprint if b.column.stats else None
    return similarity(left, right)


def _score(a: Side, b: Side) -> tuple[float, str] | None:
    type_score = 1.0 if a.type == b.type else 0.5
    position = _position(a, b)
    values = _values(a, b)
    weights = WEIGHTS if values is None else WEIGHTS_WITH_VALUES
    known = weights["type"] * type_score + weights["position"] * position \
        + (weights["values"] * values if values is not None else 0.0)
    if known + weights["name"] < HINT_FLOOR:
        return None  # even identical names could not make this a candidate
    name = name_similarity(a, b)
    confidence = round(known + weights["name"] * name, 4)
    parts = [f"names alike {name:.2f}",
             "same type" if type_score == 1.0 else "same type family",
             "same position" if position == 1.0 else
             ("same neighbours" if position == 0.8 else
              ("one neighbour kept" if position else "moved"))]
    if values is not None:
        parts.append(f"values overlap {values:.2f}")
    return confidence, ", ".join(parts)


_Scored = tuple[float, int, int, Side, Side, str]


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
    by_family: dict[str, list[Side]] = defaultdict(list)
    for b in added:
        by_family[b.type.family].append(b)
    scored: list[_Scored] = []
    for a in removed:
        if not a.type.known:
            continue  # no evidence about an unreadable type
        for b in by_family.get(a.type.family, ()):
            result = _score(a, b)
            if result is not None and result[0] >= HINT_FLOOR:
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
        matches.append(RenameMatch(a, b, conf, evidence))

    paired = {m.old.column.name for m in matches}
    matched_new = {m.new.column.name for m in matches}
    candidates: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for conf, _, _, a, b, _ in scored:
        if a.column.name not in paired and b.column.name not in matched_new:
            candidates[a.column.name].append((b.column.name, conf))
    hints = {name: Hint(tuple(c[:3]), name in ambiguous) for name, c in candidates.items()}
    return matches, hints
