"""Does the data still fit a narrower type? Decided from :class:`ColumnStats`, or not at all.

Three answers, never a guess: ``FITS``, ``DOES_NOT_FIT``, ``UNKNOWN`` (the statistics that
would decide were not measured). The gateway measures them on the warehouse.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from planner.drift.lattice import LENGTH, NUMERIC, Domain, domain
from planner.drift.model import ColumnStats, Number
from planner.drift.normalize import NormalType

FITS, DOES_NOT_FIT, UNKNOWN = "FITS", "DOES_NOT_FIT", "UNKNOWN"


def fits(check: str | None, old: NormalType, new: NormalType,
         stats: ColumnStats | None) -> tuple[str, str]:
    """(verdict, why) for a narrowing ``old → new`` decided by ``check``."""
    if check not in (NUMERIC, LENGTH):
        return UNKNOWN, "no statistic can show whether the values survive"
    if stats is None:
        return UNKNOWN, "no statistics were measured"
    if stats.row_count is not None and stats.null_count is not None \
            and stats.null_count >= stats.row_count:
        return FITS, "the column holds no values"
    if check == LENGTH:
        return _fits_length(new, stats)
    return _fits_numbers(old, new, stats)


def _fits_length(new: NormalType, stats: ColumnStats) -> tuple[str, str]:
    if stats.max_length is None:
        return UNKNOWN, "the longest value's length was not measured"
    limit = new.length
    if limit is None or stats.max_length <= limit:
        return FITS, f"the longest value has {stats.max_length} characters, within {limit}"
    return DOES_NOT_FIT, f"the longest value has {stats.max_length} characters, more than {limit}"


def _as_decimal(value: Number | None) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(value)  # exact for int, float and Decimal alike
    except (InvalidOperation, ValueError, TypeError):
        return None


def _fits_numbers(old: NormalType, new: NormalType, stats: ColumnStats) -> tuple[str, str]:
    lo, hi = _as_decimal(stats.min_value), _as_decimal(stats.max_value)
    if lo is None or hi is None:
        return UNKNOWN, "the smallest and largest values were not measured"
    target: Domain = domain(new)
    if (target.lo is not None and lo < target.lo) or (target.hi is not None and hi > target.hi):
        return DOES_NOT_FIT, f"values range from {_show(lo)} to {_show(hi)}, outside {new.text}"
    # Digits after the point the values really carry: the old type bounds them, and so does
    # the measurement; the tighter of the two is the truth.
    known = [s for s in (domain(old).scale, stats.max_scale) if s is not None]
    scale = min(known) if known else None
    if target.scale is not None or target.digits is not None:
        if scale is None:
            return UNKNOWN, "the digits after the decimal point were not measured"
        if target.scale is not None and scale > target.scale:
            return DOES_NOT_FIT, (f"values carry {scale} digits after the point, "
                                  f"{new.text} keeps {target.scale}")
    if target.digits is not None and scale is not None:
        whole = len(str(int(max(abs(lo), abs(hi)))))
        if whole + scale > target.digits:
            return DOES_NOT_FIT, (f"values need {whole + scale} significant digits, "
                                  f"{new.text} keeps about {target.digits}")
    return FITS, f"values range from {_show(lo)} to {_show(hi)}, within {new.text}"


def _show(value: Decimal) -> str:
    text = format(value.normalize(), "f") if abs(value) < Decimal("1e21") else str(value)
    return text
