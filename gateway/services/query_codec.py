"""Plans to JSON and back (for stored previews), and warehouse values to JSON."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import decimal
import uuid
from typing import Any

from planner import Guardrail, JoinUse, Plan, TableUse


def plan_to_json(plan: Plan) -> dict[str, Any]:
    return dataclasses.asdict(plan)


def plan_from_json(data: dict[str, Any]) -> Plan:
    fields = dict(data)
    fields["tables"] = tuple(TableUse(**t) for t in data["tables"])
    fields["joins"] = tuple(JoinUse(**j) for j in data["joins"])
    fields["guardrails"] = tuple(Guardrail(**g) for g in data["guardrails"])
    for name in ("filters", "aggregations", "group_by", "assumptions"):
        fields[name] = tuple(data[name])
    return Plan(**fields)


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


def json_rows(rows: list[list[Any]]) -> list[list[Any]]:
    simple = (type(None), bool, int, str)
    return [row if all(isinstance(v, simple) for v in row) else [json_value(v) for v in row] for row in rows]
