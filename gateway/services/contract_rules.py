"""Validating a contract before it is registered: one message per problem, all at once.

The input is plain data (what GraphQL or a script sent); the output is a :class:`ContractSpec`
or :class:`InvalidContract` whose ``problems`` extension lists every problem found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from gateway.errors import InvalidContract
from gateway.ingestion_records import ContractColumn, ContractSpec, Semantics, Sla
from gateway.warehouse.naming import logical_name_problem

NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
WINDOW = re.compile(r"^\s*(\d+)\s*(s|m|h|d)\s*$", re.IGNORECASE)
WINDOW_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
VARCHAR = re.compile(r"^(?:VARCHAR|CHARACTER VARYING|CHAR)\s*\(\s*(\d+)\s*\)$")
# Spellings accepted for each canonical type. NUMERIC/DECIMAL are refused: a DOUBLE would lose digits.
TYPE_ALIASES: dict[str, str] = {
    **dict.fromkeys(("INTEGER", "INT", "INT4", "SMALLINT"), "INTEGER"),
    **dict.fromkeys(("BIGINT", "INT8", "LONG"), "BIGINT"),
    **dict.fromkeys(("DOUBLE", "DOUBLE PRECISION", "FLOAT", "FLOAT8", "REAL"), "DOUBLE"),
    **dict.fromkeys(("TEXT", "STRING", "VARCHAR"), "TEXT"),
    **dict.fromkeys(("BOOLEAN", "BOOL"), "BOOLEAN"),
    **dict.fromkeys(("TIMESTAMP", "TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE"), "TIMESTAMP"),
    "DATE": "DATE",
    **dict.fromkeys(("JSON", "JSONB"), "JSON"),
}
# Defaults that stamp the moment of loading, not the moment of the event.
PROCESSING_TIME_DEFAULT = re.compile(
    r"^\s*(now\s*\(\s*\)|current_timestamp|current_date|current_time|localtimestamp|localtime|"
    r"getdate\s*\(\s*\)|sysdate|statement_timestamp\s*\(\s*\)|clock_timestamp\s*\(\s*\)|"
    r"transaction_timestamp\s*\(\s*\)|datetime\s*\(\s*'now'\s*\))\s*$", re.IGNORECASE)
SCHEDULE = re.compile(r"^(@(hourly|daily|weekly|monthly|yearly)|(\S+\s+){4}\S+)$")
MODES = ("append", "upsert")
RESOLUTIONS = ("latest_wins", "error")
DEFAULT_TEXT_LIMIT = 65_536


def canonical_type(text: str) -> tuple[str, int | None] | None:
    upper = " ".join(text.strip().upper().split())
    if match := VARCHAR.match(upper):
        return "TEXT", int(match.group(1))
    canonical = TYPE_ALIASES.get(upper)
    return (canonical, None) if canonical else None


def parse_window(text: str | None) -> int | None:
    match = WINDOW.match(text or "")
    return int(match.group(1)) * WINDOW_UNITS[match.group(2).lower()] if match else None


def is_processing_time_default(default: str | None) -> bool:
    return bool(default and PROCESSING_TIME_DEFAULT.match(default))


@dataclass
class _Problems:
    items: list[str] = field(default_factory=list)

    def add(self, message: str) -> None:
        self.items.append(message)


def validate_contract(data: dict[str, Any]) -> ContractSpec:
    """``data`` has ``table``, ``columns``, ``semantics``, optional ``sla``, ``description``,
    ``unsafe_allow_processing_time``; keys in snake_case."""
    p = _Problems()
    table = str(data.get("table") or "").strip().lower()
    problem = logical_name_problem(table)
    if problem:
        p.add(f"table {table!r}: {problem}.")
    columns = _columns(data.get("columns") or [], p)
    by_name = {c.name: c for c in columns}
    sem = data.get("semantics") or {}
    unsafe = bool(data.get("unsafe_allow_processing_time"))
    mode = str(sem.get("mode") or "").strip().lower()
    if mode not in MODES:
        p.add(f"ingestionSemantics.mode is {'missing' if not mode else repr(mode)}: use append or upsert.")
    key = tuple(str(k) for k in (sem.get("idempotency_key") or ()))
    if not key:
        p.add("ingestionSemantics.idempotencyKey is empty: "
              + ("upsert needs a key to find the row to update." if mode == "upsert"
                 else "name the column(s) that identify a record."))
    for k in key:
        if k not in by_name:
            p.add(f"idempotencyKey column {k!r} is not in the schema.")
    if len(set(key)) != len(key):
        p.add("idempotencyKey names a column twice.")
    event = str(sem.get("event_time_column") or "")
    processing = str(sem.get("processing_time_column") or "")
    for label, name in (("eventTimeColumn", event), ("processingTimeColumn", processing)):
        if not name:
            p.add(f"ingestionSemantics.{label} is missing.")
        elif name not in by_name:
            p.add(f"{label} {name!r} is not in the schema.")
        elif by_name[name].type != "TIMESTAMP":
            p.add(f"{label} {name!r} is {by_name[name].type}, not a timestamp.")
    if event and event == processing:
        p.add("eventTimeColumn and processingTimeColumn must be different columns.")
    if processing and processing in key:
        p.add(f"processingTimeColumn {processing!r} cannot be part of the idempotencyKey.")
    window_text = str(sem.get("dedupe_window") or "")
    window = parse_window(window_text)
    if window is None or window <= 0:
        p.add(f"dedupeWindow {window_text!r} does not parse: write a number and a unit, e.g. 90s, 15m, 24h, 7d.")
    resolution = str(sem.get("conflict_resolution") or "").strip().lower()
    if resolution not in RESOLUTIONS:
        p.add(f"ingestionSemantics.conflictResolution is {'missing' if not resolution else repr(resolution)}: "
              "use latest_wins or error.")
    warnings: list[str] = []
    for c in columns:
        if c.name != processing and is_processing_time_default(c.default):
            message = (f"column {c.name!r} defaults to {c.default}, a processing-time value on a business "
                       "column: replays and backfills would stamp load time, not event time")
            if unsafe:
                warnings.append("UNSAFE: " + message + " (allowed by unsafeAllowProcessingTime).")
            else:
                p.add(message + "; remove the default or set unsafeAllowProcessingTime.")
    sla = _sla(data.get("sla"), p)
    if p.items:
        raise InvalidContract(
            f"The contract has {len(p.items)} problem(s): " + " | ".join(p.items), problems=p.items)
    return ContractSpec(
        table=table, description=data.get("description"), columns=columns,
        semantics=Semantics(mode=mode, idempotency_key=key, event_time_column=event,
                            processing_time_column=processing, dedupe_window=window_text.strip(),
                            dedupe_window_seconds=int(window or 0), conflict_resolution=resolution,
                            unsafe_allow_processing_time=unsafe),
        sla=sla, warnings=tuple(warnings))


def _columns(raw: list[dict[str, Any]], p: _Problems) -> tuple[ContractColumn, ...]:
    if not raw:
        p.add("columns is empty: a contract needs at least one column.")
    seen: set[str] = set()
    out: list[ContractColumn] = []
    for item in raw:
        name = str(item.get("name") or "").strip()
        if not NAME.match(name) or name.startswith("spyne_"):
            p.add(f"column {name!r}: lower-case letters, digits and underscores; the spyne_ prefix is reserved.")
            continue
        if name in seen:
            p.add(f"column {name!r} appears twice.")
            continue
        seen.add(name)
        parsed = canonical_type(str(item.get("type") or ""))
        if parsed is None:
            p.add(f"column {name!r} has type {item.get('type')!r}; use one of INTEGER, BIGINT, DOUBLE, "
                  "TEXT, VARCHAR(n), BOOLEAN, TIMESTAMP, DATE, JSON.")
            continue
        ctype, limit = parsed
        out.append(ContractColumn(name=name, type=ctype, nullable=item.get("nullable", True) is not False,
                                  description=item.get("description"), default=item.get("default"),
                                  max_length=limit if ctype != "TEXT" or limit else DEFAULT_TEXT_LIMIT))
    return tuple(out)


def _sla(raw: dict[str, Any] | None, p: _Problems) -> Sla | None:
    if not raw:
        return None
    max_lag = raw.get("max_lag_seconds")
    threshold = raw.get("alert_threshold_seconds")
    schedule = raw.get("schedule")
    if not isinstance(max_lag, int) or max_lag <= 0:
        p.add("sla.maxLagSeconds must be a positive number of seconds.")
        return None
    if threshold is not None and not 0 < threshold <= max_lag:
        p.add("sla.alertThresholdSeconds must be positive and at most maxLagSeconds.")
    if schedule is not None and not SCHEDULE.match(schedule.strip()):
        p.add(f"sla.schedule {schedule!r} is not a cron expression (five fields) or @hourly/@daily/….")
    return Sla(max_lag_seconds=max_lag, alert_threshold_seconds=threshold,
               schedule=schedule.strip() if schedule else None)
