"""Which (removed, added) pairs rename detection scores: all of them when that is cheap,
otherwise only the pairs some index says are worth a look.

Pairs are always within one type family. When a family has at most ``EXHAUSTIVE_PAIRS``
pairs, every one is scored, so ordinary schema changes get the exact answer. Past that
(thousands of columns churning at once), each removed column is compared only with added
columns that are near it by position, share one of its rarer name-token prefixes, or share
a band of its value fingerprint (locality-sensitive hashing), each source capped, so the work
grows linearly with the number of columns instead of with its square.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterator

from planner.drift.names import Side

EXHAUSTIVE_PAIRS = 20_000
POSITION_WINDOW = 8  # added columns on each side of the removed column's position
TOKEN_KEYS = 2  # the rarest name-token prefixes of a removed column that are looked up
BUCKET_CAP = 16  # added columns taken from any one index bucket
BAND_ROWS = 4  # fingerprint positions per LSH band
PREFIX = 3


def candidate_pairs(removed: list[Side], added: list[Side]) -> Iterator[tuple[Side, Side]]:
    by_family: dict[str, list[Side]] = defaultdict(list)
    for b in added:
        by_family[b.type.family].append(b)
    old_by_family: dict[str, list[Side]] = defaultdict(list)
    for a in removed:
        if a.type.known:  # no evidence about an unreadable type
            old_by_family[a.type.family].append(a)
    for family, olds in old_by_family.items():
        news = by_family.get(family, [])
        if len(olds) * len(news) <= EXHAUSTIVE_PAIRS:
            yield from ((a, b) for a in olds for b in news)
        else:
            yield from _blocked(olds, news)


def _token_keys(s: Side) -> set[str]:
    return {t[:PREFIX] for t in s.tokens}


def _bands(s: Side) -> list[tuple[int, tuple[int, ...]]]:
    signature = s.column.stats.fingerprint if s.column.stats else None
    if not signature:
        return []
    return [(i, tuple(signature[i:i + BAND_ROWS])) for i in range(0, len(signature), BAND_ROWS)]


def _blocked(olds: list[Side], news: list[Side]) -> Iterator[tuple[Side, Side]]:
    ordered = sorted(news, key=lambda s: s.index)
    positions = [s.index for s in ordered]
    tokens: dict[str, list[Side]] = defaultdict(list)
    bands: dict[tuple[int, tuple[int, ...]], list[Side]] = defaultdict(list)
    for b in news:
        for key in _token_keys(b):
            tokens[key].append(b)
        for band in _bands(b):
            bands[band].append(b)
    for a in olds:
        seen: dict[int, Side] = {}
        at = bisect.bisect_left(positions, a.index)
        for b in ordered[max(0, at - POSITION_WINDOW):at + POSITION_WINDOW + 1]:
            seen[id(b)] = b
        rare = sorted(_token_keys(a), key=lambda k: len(tokens.get(k, ())))[:TOKEN_KEYS]
        for key in rare:
            for b in tokens.get(key, [])[:BUCKET_CAP]:
                seen[id(b)] = b
        for band in _bands(a):
            for b in bands.get(band, [])[:BUCKET_CAP]:
                seen[id(b)] = b
        yield from ((a, b) for b in seen.values())
