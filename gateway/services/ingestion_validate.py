"""Validating records against a contract version: coerce what is lossless, quarantine the rest.

Every record leaves here either as a row of canonical values (in contract column order) or as a
quarantine entry with a reason and its raw text; none is dropped. Canonical values: ``int``,
``float``, ``bool``, ``str``; timestamps as UTC text ``YYYY-MM-DD HH:MM:SS.ffffff+00:00`` (which
sorts like time on every backend), dates as ``YYYY-MM-DD``, JSON as sorted-key JSON text.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from gateway.ingestion_records import ContractColumn, ContractVersionRecord
from gateway.services.contract_rules import is_processing_time_default
from gateway.warehouse.writer import Batch, TargetSpec

UNPARSED = object()  # the raw text still needs json.loads (an NDJSON line)
MISSING = object()
TOO_LONG = object()  # the line passed the size limit; only its beginning was kept as raw text


@dataclass(frozen=True, slots=True)
class InvalidUtf8:
    """An NDJSON line whose bytes are not UTF-8; its raw text is ``base64:`` + the bytes."""

    position: int  # of the first byte that is not UTF-8
    reason: str


BASE64_PREFIX = "base64:"
MAX_RAW_CHARS = 1_048_576  # a record longer than this is quarantined whole, not parsed
MAX_KEY_CHARS = 2_000  # bytes of an idempotency key (its text form), below PostgreSQL's index limit
INT_TEXT = re.compile(r"^[+-]?\d{1,19}$")
INT_RANGE = {"INTEGER": (-(2**31), 2**31 - 1), "BIGINT": (-(2**63), 2**63 - 1)}


class Bad(Exception):
    """One record's problem, said so that its sender can fix it."""


def canonical_time(value: datetime) -> str:
    # isoformat is C code and far cheaper than strftime on the hot path.
    return value.astimezone(UTC).isoformat(sep=" ", timespec="microseconds")


def parse_canonical_time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _integer(ctype: str) -> Callable[[Any], Any]:
    low, high = INT_RANGE[ctype]

    def coerce(v: Any) -> int:
        if type(v) is int:
            out = v
        elif type(v) is float and v.is_integer():
            out = int(v)
        elif type(v) is str and INT_TEXT.match(v.strip()):
            out = int(v.strip())
        else:
            raise Bad(f"{_short(v)} is not a whole number")
        if not low <= out <= high:
            raise Bad(f"{_short(out)} does not fit in {ctype}")
        return out

    return coerce


def _double(v: Any) -> float:
    if type(v) in (int, float):
        try:
            out = float(v)
        except OverflowError:  # a JSON integer such as 10**400
            raise Bad(f"{_short(v)} is too large for a DOUBLE") from None
    elif type(v) is str:
        try:
            out = float(v)
        except ValueError:
            raise Bad(f"{_short(v)} is not a number") from None
    else:
        raise Bad(f"{_short(v)} is not a number")
    if not math.isfinite(out):
        raise Bad(f"{_short(v)} is not a finite number")
    return out


def _text(limit: int | None) -> Callable[[Any], Any]:
    def coerce(v: Any) -> str:
        if type(v) is str:
            out = v
        elif type(v) in (int, float):
            out = str(v)  # lossless: the text reads back as the same number
        else:
            raise Bad(f"a {type(v).__name__} is not text")
        if limit is not None and len(out) > limit:
            raise Bad(f"text of {len(out):,} characters is longer than the limit of {limit:,}")
        if "\x00" in out:
            raise Bad("text contains a NUL character (U+0000), which no warehouse text column can hold")
        if not out.isascii() and not _encodable(out):
            raise Bad("text contains a lone UTF-16 surrogate (such as \\ud800), which is not a character")
        return out

    return coerce


def _boolean(v: Any) -> bool:
    if type(v) is bool:
        return v
    if v in (0, 1) and type(v) is int:
        return bool(v)
    if type(v) is str and v.strip().lower() in ("true", "false"):
        return v.strip().lower() == "true"
    raise Bad(f"{_short(v)} is not a boolean")


def _timestamp(v: Any) -> str:
    if isinstance(v, datetime):
        parsed = v
    elif type(v) is str:
        try:
            parsed = datetime.fromisoformat(v.strip())
        except ValueError:
            raise Bad(f"{_short(v)} is not an ISO 8601 timestamp") from None
    else:
        raise Bad(f"{_short(v)} is not a timestamp")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise Bad(f"{_short(v)} has no time zone; send an offset such as Z or +02:00")
    try:
        return canonical_time(parsed)
    except OverflowError:  # 9999-12-31T23:59:59-14:00 is past year 9999 in UTC
        raise Bad(f"{_short(v)} is out of range once converted to UTC (years 1 to 9999)") from None


def _date(v: Any) -> str:
    if isinstance(v, date) and not isinstance(v, datetime):
        return v.isoformat()
    if type(v) is str:
        try:
            return date.fromisoformat(v.strip()).isoformat()
        except ValueError:
            pass
    raise Bad(f"{_short(v)} is not a date (YYYY-MM-DD)")


def _json(v: Any) -> str:
    try:
        out = json.dumps(v, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except ValueError:
        raise Bad("JSON cannot hold NaN or Infinity") from None
    except RecursionError:
        raise Bad("JSON nested too deeply") from None
    # What JSON columns refuse (PostgreSQL's jsonb): NUL in a string, a lone surrogate.
    if "\\u0000" in out:
        raise Bad("JSON text contains a NUL character (\\u0000), which a JSON column cannot hold")
    if "\\ud" in out and not _encodable(json.dumps(v, ensure_ascii=False)):
        raise Bad("JSON text contains a lone UTF-16 surrogate (such as \\ud800), which is not a character")
    return out


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _short(v: Any) -> str:
    """A value as a reason quotes it: a 10**400 or a 1 MB string is not repeated whole."""
    try:
        text = repr(v)
    except ValueError:  # int too large to print (sys.set_int_max_str_digits)
        return f"a {type(v).__name__} of more than 4,300 digits"
    return text if len(text) <= 80 else text[:77] + "…"


def coercer(column: ContractColumn) -> Callable[[Any], Any]:
    if column.type in INT_RANGE:
        return _integer(column.type)
    return {"DOUBLE": _double, "TEXT": _text(column.max_length), "BOOLEAN": _boolean,
            "TIMESTAMP": _timestamp, "DATE": _date, "JSON": _json}[column.type]


def target_spec(contract: ContractVersionRecord, physical_name: str, *, conflict: str | None = None,
                window_seconds: float | None = -1.0) -> TargetSpec:
    sem = contract.semantics
    return TargetSpec(
        contract_id=contract.contract_id, version=contract.version, physical_name=physical_name,
        columns=tuple(c.name for c in contract.columns), types=tuple(c.type for c in contract.columns),
        key=sem.idempotency_key, event_time=sem.event_time_column, mode=sem.mode,
        conflict=conflict or sem.conflict_resolution,
        window_seconds=float(sem.dedupe_window_seconds) if window_seconds == -1.0 else window_seconds,
        processing_time=sem.processing_time_column)


class RecordValidator:
    """Turns raw records into :class:`Batch` es for one contract version."""

    def __init__(self, contract: ContractVersionRecord, now: datetime,
                 time_range: tuple[str, str] | None = None, key_text_chars: int | None = None) -> None:
        """``key_text_chars``: what a text/JSON key column holds on this warehouse, where its index
        bounds it (``IngestWriter.key_text_chars``)."""
        sem = contract.semantics
        self.now_text = canonical_time(now)
        self.known = frozenset(c.name for c in contract.columns)
        self.time_range = time_range
        self.out_of_range = 0
        self.newest_event: str | None = None
        names = [c.name for c in contract.columns]
        self.key_index = tuple(names.index(k) for k in sem.idempotency_key)
        self.event_index = names.index(sem.event_time_column)
        self.key_text_chars = key_text_chars
        self.key_texts = tuple((names.index(c.name), c.name) for c in contract.columns
                               if c.name in sem.idempotency_key and c.type in ("TEXT", "JSON"))
        key = set(sem.idempotency_key)
        # (name, coerce, required, default factory or None, is the processing-time column)
        self.plan: list[tuple[str, Callable[[Any], Any], bool, Any, bool]] = []
        for c in contract.columns:
            default: Any = None
            if c.default is not None:
                default = self.now_text if is_processing_time_default(c.default) else coercer(c)(c.default)
            required = (not c.nullable) or c.name in key or c.name == sem.event_time_column
            self.plan.append((c.name, coercer(c), required, default, c.name == sem.processing_time_column))

    def add(self, batch: Batch, line: int | None, raw: str, value: Any = UNPARSED) -> None:
        try:
            row = self._row(raw, value)
            key = self._key(row)
        except Bad as problem:
            batch.quarantine.append((line, _storable(str(problem)), _storable(raw)))
            return
        except (ValueError, TypeError, ArithmeticError, RecursionError, UnicodeError) as problem:
            # A value error no coercer foresaw still quarantines this record only, never the batch.
            reason = f"a value cannot be stored ({type(problem).__name__})"
            batch.quarantine.append((line, reason, _storable(raw)))
            return
        event = row[self.event_index]
        if self.time_range is not None and not self.time_range[0] <= event < self.time_range[1]:
            self.out_of_range += 1
            return
        if self.newest_event is None or event > self.newest_event:
            self.newest_event = event
        batch.rows.append(row)
        batch.keys.append(key)
        batch.raws.append(_storable(raw))
        batch.event_times.append(event)
        batch.line_numbers.append(line)

    def _key(self, row: tuple[Any, ...]) -> str:
        keys = tuple(row[i] for i in self.key_index)
        limit = self.key_text_chars
        if limit is not None:
            for i, name in self.key_texts:
                if len(row[i]) > limit:
                    raise Bad(f"column {name!r}: an idempotency key value holds at most {limit:,} characters "
                              f"on this warehouse, got {len(row[i]):,}")
        key = repr(keys[0]) if len(keys) == 1 else repr(keys)
        # A key is indexed (a unique index, the append mode's key index): PostgreSQL's btree
        # refuses entries past ~2,700 bytes, so a longer key is this record's problem.
        if len(key) > MAX_KEY_CHARS // 4 and len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_CHARS:
            raise Bad(f"the idempotency key is longer than {MAX_KEY_CHARS:,} bytes")
        return key

    def _row(self, raw: str, value: Any) -> tuple[Any, ...]:
        if isinstance(value, InvalidUtf8):
            raise Bad(f"invalid UTF-8 at byte {value.position + 1} ({value.reason}); the raw record is the "
                      "line's bytes, base64-encoded")
        if value is TOO_LONG:
            raise Bad(f"record longer than the limit of {MAX_RAW_CHARS:,} characters (only its start is kept)")
        if value is UNPARSED:
            if len(raw) > MAX_RAW_CHARS:
                raise Bad(f"record of {len(raw):,} characters is longer than the limit of {MAX_RAW_CHARS:,}")
            try:
                value = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise Bad(f"broken JSON: {exc.msg} at column {exc.colno}") from None
            except ValueError:  # e.g. a number too long to convert
                raise Bad("broken JSON: a value cannot be read") from None
            except RecursionError:  # [[[[… thousands deep: refused, not a crash of the whole batch
                raise Bad("broken JSON: nested too deeply") from None
        if type(value) is not dict:
            raise Bad(f"a record must be a JSON object, got {type(value).__name__ if value is not None else 'null'}")
        unknown = value.keys() - self.known
        if unknown:
            raise Bad("unknown column(s): " + ", ".join(sorted(map(str, unknown))[:10]))
        out: list[Any] = []
        for name, coerce, required, default, is_processing in self.plan:
            if is_processing:
                out.append(self.now_text)  # processing time is the gateway's to stamp
                continue
            v = value.get(name, MISSING)
            if v is MISSING or v is None:
                if default is not None and v is MISSING:
                    out.append(default)
                elif required:
                    raise Bad(f"missing value for required column {name!r}")
                else:
                    out.append(None)
                continue
            try:
                out.append(coerce(v))
            except Bad as problem:
                raise Bad(f"column {name!r}: {problem}") from None
        return tuple(out)


def _storable(text: str) -> str:
    """Text as the landing log and quarantine keep it: PostgreSQL text cannot hold NUL, so each
    one is shown as U+FFFD (the parse already happened on the original)."""
    return text.replace("\x00", "\ufffd") if "\x00" in text else text
