"""Plans to JSON and back (for stored previews), and warehouse values to JSON."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import decimal
import math
import uuid
from collections.abc import Callable
from typing import Any, Final

from planner import Guardrail, JoinUse, OutputColumn, Plan, TableUse


def plan_to_json(plan: Plan) -> dict[str, Any]:
    return dataclasses.asdict(plan)


def plan_from_json(data: dict[str, Any]) -> Plan:
    fields = dict(data)
    fields["tables"] = tuple(TableUse(**t) for t in data["tables"])
    fields["joins"] = tuple(JoinUse(**j) for j in data["joins"])
    fields["guardrails"] = tuple(_guardrail(g) for g in data["guardrails"])
    fields["columns"] = tuple(OutputColumn(**c) for c in data.get("columns", ()))  # absent in older previews
    for name in ("filters", "aggregations", "group_by", "assumptions"):
        fields[name] = tuple(data[name])
    return Plan(**fields)


def _guardrail(data: dict[str, Any]) -> Guardrail:
    span = data.get("span")  # absent in older previews; a list once it has been through JSON
    return Guardrail(data["type"], data["message"], data["requires_override"],
                     tuple(span) if span is not None else None)  # type: ignore[arg-type]


def json_value(value: Any) -> Any:
    """A warehouse value as JSON: exact decimals stay exact as strings when floats would round."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else str(value)
    if isinstance(value, decimal.Decimal):
        as_float = float(value)
        return as_float if decimal.Decimal(repr(as_float)) == value else str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, uuid.UUID):
        return str(value)
    return str(value)


# Values JSON carries as they are. Exact types, not isinstance: a subclass takes json_value's way.
_NATIVE: Final = frozenset({type(None), bool, int, str})
_FLOATS: Final = frozenset({type(None), float})
# What csv.writer already writes as executeQuery's JSON would (floats as repr, "inf" and "nan" too).
_CSV_NATIVE: Final = _NATIVE | {float}
# Dates and times are ISO 8601 in both: a column of one of these converts by its own method.
_ISO_TYPES: Final = frozenset({dt.datetime, dt.date, dt.time})


def json_rows(rows: list[list[Any]]) -> list[list[Any]]:
    """Warehouse rows as JSON values, converting only the columns that hold anything else.

    The decision is per column, from the set of types the column actually holds (SQLite types
    per value, so a column's first value says nothing certain about its others): gathering
    that set, transposing and checking floats all run in C, and a result of JSON-native
    columns comes back as it is, with no work per value in Python.
    """
    return _converted_rows(rows, _json_column)


def csv_rows(rows: list[list[Any]]) -> list[list[Any]]:
    """Warehouse rows as CSV fields: executeQuery's JSON values, except that an exact decimal is
    written as the warehouse's own exact text (``12.50`` keeps its scale, never ``1E+1``) rather
    than as the float that JSON would carry when it is exact — csv.writer writes text either way,
    and the JSON form costs a float round trip per value (most of a CSV download's encoding)."""
    return _converted_rows(rows, _csv_column)


def _converted_rows(rows: list[list[Any]],
                    convert: Callable[[tuple[Any, ...], set[type]], list[Any] | None]) -> list[list[Any]]:
    if not rows:
        return rows
    columns = list(zip(*rows, strict=True))
    converted: dict[int, list[Any]] = {}
    for index, column in enumerate(columns):
        values = convert(column, set(map(type, column)))
        if values is not None:
            converted[index] = values
    if not converted:
        return rows
    return [list(row) for row in zip(*(converted.get(i, c) for i, c in enumerate(columns)), strict=True)]


def _json_column(column: tuple[Any, ...], kinds: set[type]) -> list[Any] | None:
    """A column's JSON values, or None when it is JSON already."""
    if kinds <= _NATIVE:
        return None
    if kinds <= _FLOATS and all(map(math.isfinite, [v for v in column if v is not None])):
        return None  # finite floats are JSON numbers already
    return _one_kind(column, kinds) or [json_value(v) for v in column]


def _csv_column(column: tuple[Any, ...], kinds: set[type]) -> list[Any] | None:
    if kinds <= _CSV_NATIVE:
        return None
    if kinds <= {type(None), decimal.Decimal}:
        return [None if v is None else f"{v:f}" for v in column]
    return _one_kind(column, kinds) or [f"{v:f}" if type(v) is decimal.Decimal else json_value(v) for v in column]


def _one_kind(column: tuple[Any, ...], kinds: set[type]) -> list[Any] | None:
    """A column of dates or times (and NULLs) by the type's own isoformat, skipping json_value's
    type tests per value."""
    kinds = kinds - {type(None)}
    if len(kinds) == 1 and next(iter(kinds)) in _ISO_TYPES:
        return [None if v is None else v.isoformat() for v in column]
    return None
