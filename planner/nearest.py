"""nearest(typed, names): "did you mean" over many names, fast enough for every keystroke.

``difflib.get_close_matches`` compares the typed word with every name; over a 1,000-table
catalog whose names share prefixes that is hundreds of milliseconds. Here an index of character
trigrams (built once per tuple of names and kept) picks the few names that share the most
trigrams with the typed word, and difflib ranks only those.
"""

from __future__ import annotations

import difflib
from collections import Counter
from functools import lru_cache

SHORTLIST = 24


def nearest(typed: str, names: tuple[str, ...], n: int = 3, cutoff: float = 0.6) -> list[str]:
    if len(names) <= SHORTLIST:
        return difflib.get_close_matches(typed, names, n=n, cutoff=cutoff)
    index = _index(names)
    shared: Counter[int] = Counter()
    for gram in _grams(typed):
        shared.update(index.get(gram, ()))
    shortlist = [names[i] for i, _ in shared.most_common(SHORTLIST)]
    return difflib.get_close_matches(typed, shortlist, n=n, cutoff=cutoff)


def _grams(word: str) -> set[str]:
    padded = f"  {word.lower()} "
    return {padded[i:i + 3] for i in range(len(padded) - 2)}


@lru_cache(maxsize=16)
def _index(names: tuple[str, ...]) -> dict[str, tuple[int, ...]]:
    found: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        for gram in _grams(name):
            found.setdefault(gram, []).append(i)
    return {gram: tuple(ids) for gram, ids in found.items()}
