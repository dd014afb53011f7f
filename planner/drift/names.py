"""Column names as rename evidence: tokens, bigrams, and how alike two names are.

``cust_name`` ~ ``customer_name`` (an abbreviated token), ``qty`` ~ ``quantity`` (a
subsequence), ``customerName`` ~ ``customer_name`` (the same tokens), scored as the better of
character-bigram overlap and token agreement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from planner.drift.model import ColumnSpec
from planner.drift.normalize import NormalType

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
    """Tokens matched one to one, exact matches first, then abbreviations."""
    if not left or not right:
        return 0.0
    remaining = list(right)
    total = 0.0
    unmatched: list[str] = []
    for token in left:
        if token in remaining:
            remaining.remove(token)
            total += 1.0
        else:
            unmatched.append(token)
    for token in unmatched:
        best, best_i = 0.0, -1
        for i, other in enumerate(remaining):
            short, long_ = (token, other) if len(token) <= len(other) else (other, token)
            if len(short) < MIN_ABBREVIATION or short[0] != long_[0]:
                continue
            if long_.startswith(short):
                best, best_i = PREFIX_TOKEN, i
                break
            if best < SUBSEQUENCE_TOKEN and _is_subsequence(short, long_):
                best, best_i = SUBSEQUENCE_TOKEN, i
        if best_i >= 0:
            remaining.pop(best_i)
            total += best
    return total / max(len(left), len(right))


def _is_subsequence(short: str, long_: str) -> bool:
    letters = iter(long_)
    return all(ch in letters for ch in short)
