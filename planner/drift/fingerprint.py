"""Value fingerprints for rename detection: a MinHash signature over a column's values.

The gateway samples a column's distinct values, calls :func:`minhash`, and stores the
signature in :class:`ColumnStats.fingerprint`. Two signatures agree in a fraction of their
positions that estimates the Jaccard similarity of the two value sets, so a renamed column
whose data did not change looks like itself under its new name. Hashes come from blake2b,
not ``hash()``, so signatures made by different processes compare.
"""

from __future__ import annotations

from collections.abc import Iterable
from hashlib import blake2b

_PRIME = (1 << 61) - 1
_MASK = (1 << 61) - 1
DEFAULT_PERMUTATIONS = 64


def _params(k: int) -> list[tuple[int, int]]:
    # Fixed, derived coefficients: every caller must use the same permutations.
    out: list[tuple[int, int]] = []
    for i in range(k):
        digest = blake2b(f"spyne-minhash-{i}".encode(), digest_size=16).digest()
        a = int.from_bytes(digest[:8], "big") % (_PRIME - 1) + 1
        b = int.from_bytes(digest[8:], "big") % _PRIME
        out.append((a, b))
    return out


_DEFAULT_PARAMS = _params(DEFAULT_PERMUTATIONS)


def value_hash(value: object) -> int:
    """A stable 61-bit hash of a value's text; None is not a value and is skipped by callers."""
    return int.from_bytes(blake2b(str(value).encode(), digest_size=8).digest(), "big") & _MASK


def minhash(values: Iterable[object], permutations: int = DEFAULT_PERMUTATIONS) -> tuple[int, ...]:
    """The MinHash signature of the non-null values (empty input: an empty signature).

    >>> minhash(["a", "b", "c"]) == minhash(["c", "b", "a", "a"])
    True
    """
    params = _DEFAULT_PARAMS if permutations == DEFAULT_PERMUTATIONS else _params(permutations)
    hashes = {value_hash(v) for v in values if v is not None}
    if not hashes:
        return ()
    return tuple(min((a * h + b) % _PRIME for h in hashes) for a, b in params)


def similarity(left: tuple[int, ...] | None, right: tuple[int, ...] | None) -> float | None:
    """Estimated Jaccard similarity of the two value sets; None when it cannot be estimated."""
    if not left or not right or len(left) != len(right):
        return None
    return sum(1 for x, y in zip(left, right, strict=True) if x == y) / len(left)
