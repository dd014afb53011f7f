"""Result rows as bytes of a download format: Arrow IPC stream, CSV, NDJSON.

An encoder turns batches of warehouse rows into bytes, one batch at a time, and never keeps a
batch once encoded. ``header(first_rows)`` is written once (Arrow's schema, CSV's header line),
``encode(rows)`` has no state of its own between calls (so a batch can be re-encoded shorter to
stay under a byte cap), ``footer(truncated)`` ends the stream.

Column types: the warehouse's where the adapter reports them (PostgreSQL), else inferred from
the values of the first batch (SQLite types per value); a column with no value in the first batch
is text. Arrow keeps types (integers, exact decimals, dates, timestamps with their time zone as
UTC instants, NULLs); CSV and NDJSON carry values as ``executeQuery``'s JSON does (ISO 8601 dates
and times, decimals exact, bytes base64), except that CSV writes a decimal as its exact text.
"""

from __future__ import annotations

import csv
import decimal
import io
import json
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from gateway.errors import WarehouseError
from gateway.services.query_codec import csv_rows, json_rows, json_value
from gateway.warehouse.stream import StreamColumn

ARROW = "application/vnd.apache.arrow.stream"
CSV = "text/csv"
NDJSON = "application/x-ndjson"
FORMAT_NAMES = {ARROW: "arrow", CSV: "csv", NDJSON: "ndjson"}


class MissingArrow(WarehouseError):
    """pyarrow is not installed on the server: Arrow is not offered (CSV and NDJSON are)."""


class Encoder(Protocol):
    media_type: str

    def header(self, first_rows: Sequence[Sequence[Any]]) -> bytes: ...
    def encode(self, rows: Sequence[Sequence[Any]]) -> bytes: ...
    def footer(self, truncated: bool) -> bytes: ...


def arrow_available() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def encoder_for(media_type: str, columns: Sequence[StreamColumn]) -> Encoder:
    factory: dict[str, Callable[[Sequence[StreamColumn]], Encoder]] = {
        ARROW: ArrowEncoder, CSV: CsvEncoder, NDJSON: NdjsonEncoder}
    return factory[media_type](columns)


# --- CSV and NDJSON: values as executeQuery's JSON has them ------------------------------------


def _text_rows(rows: Sequence[Sequence[Any]],
               convert: Callable[[list[list[Any]]], list[list[Any]]] = json_rows) -> list[list[Any]]:
    return convert(rows if isinstance(rows, list) else list(rows))  # type: ignore[arg-type]


class CsvEncoder:
    media_type = CSV

    def __init__(self, columns: Sequence[StreamColumn]) -> None:
        self._names = [c.name for c in columns]

    def header(self, first_rows: Sequence[Sequence[Any]]) -> bytes:
        return self._write([self._names])

    def encode(self, rows: Sequence[Sequence[Any]]) -> bytes:
        return self._write(_text_rows(rows, csv_rows))

    def footer(self, truncated: bool) -> bytes:
        return b""

    @staticmethod
    def _write(rows: Sequence[Sequence[Any]]) -> bytes:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(rows)  # NULL is an empty field
        return buffer.getvalue().encode()


class NdjsonEncoder:
    """One JSON object per line, keyed by column name."""

    media_type = NDJSON

    def __init__(self, columns: Sequence[StreamColumn]) -> None:
        self._names = [c.name for c in columns]
        self._dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

    def header(self, first_rows: Sequence[Sequence[Any]]) -> bytes:
        return b""

    def encode(self, rows: Sequence[Sequence[Any]]) -> bytes:
        if not rows:
            return b""
        names, dumps = self._names, self._dumps
        lines = [dumps(dict(zip(names, row, strict=True))) for row in _text_rows(rows)]
        lines.append("")
        return "\n".join(lines).encode()

    def footer(self, truncated: bool) -> bytes:
        return b""


# --- Arrow IPC stream --------------------------------------------------------------------------


class ArrowEncoder:
    media_type = ARROW

    def __init__(self, columns: Sequence[StreamColumn]) -> None:
        try:
            import pyarrow
        except ImportError as exc:
            raise MissingArrow("This server has no pyarrow: ask for text/csv or application/x-ndjson, "
                               "or install spyne-gateway[notebook] on the server.") from exc
        self._pa = pyarrow
        self._columns = tuple(columns)
        self._schema: Any = None
        self._converters: list[Callable[[list[Any]], Any]] = []

    def header(self, first_rows: Sequence[Sequence[Any]]) -> bytes:
        pa = self._pa
        values = list(zip(*first_rows, strict=True)) if first_rows else [() for _ in self._columns]
        types = [_arrow_type(pa, column, list(column_values))
                 for column, column_values in zip(self._columns, values, strict=True)]
        self._schema = pa.schema([pa.field(c.name, t) for c, t in zip(self._columns, types, strict=True)])
        self._converters = [_converter(pa, column.name, t) for column, t in zip(self._columns, types, strict=True)]
        return bytes(self._schema.serialize())

    def encode(self, rows: Sequence[Sequence[Any]]) -> bytes:
        if not rows:
            return b""
        pa = self._pa
        columns = list(zip(*rows, strict=True))
        arrays = [convert(list(values)) for convert, values in zip(self._converters, columns, strict=True)]
        batch = pa.RecordBatch.from_arrays(arrays, schema=self._schema)
        return _serialized(batch)

    def footer(self, truncated: bool) -> bytes:
        tail = b""
        if truncated:
            # An empty batch whose metadata says the download stopped at a cap, then the end.
            empty = self._pa.RecordBatch.from_pylist([], schema=self._schema)
            tail = self._batch_with_metadata(empty, {"spyne.truncated": "true"})
        return tail + _END_OF_STREAM

    def _batch_with_metadata(self, batch: Any, metadata: dict[str, str]) -> bytes:
        # A writer starts with the schema message, already sent: only what follows it is kept.
        sink = self._pa.BufferOutputStream()
        with self._pa.ipc.new_stream(sink, self._schema) as writer:
            writer.write_batch(batch, custom_metadata=metadata)
        written = sink.getvalue().to_pybytes()
        schema = bytes(self._schema.serialize())
        assert written.startswith(schema) and written.endswith(_END_OF_STREAM)
        return written[len(schema):-len(_END_OF_STREAM)]


_END_OF_STREAM = b"\xff\xff\xff\xff\x00\x00\x00\x00"


def _serialized(batch: Any) -> bytes:
    return bytes(batch.serialize())


def _arrow_type(pa: Any, column: StreamColumn, values: list[Any]) -> Any:
    kind = column.kind
    if kind == "DECIMAL":
        if column.precision and column.scale is not None and column.precision > 0:
            maker = pa.decimal128 if column.precision <= 38 else pa.decimal256
            return maker(column.precision, column.scale)
        return _unconstrained_decimal(pa, values)
    if kind is not None:
        return _KIND_TYPES[kind](pa)
    return _inferred(pa, column.name, values)


_KIND_TYPES: dict[str, Callable[[Any], Any]] = {
    "BOOLEAN": lambda pa: pa.bool_(), "INT16": lambda pa: pa.int16(), "INT32": lambda pa: pa.int32(),
    "INT64": lambda pa: pa.int64(), "FLOAT32": lambda pa: pa.float32(), "FLOAT64": lambda pa: pa.float64(),
    "TEXT": lambda pa: pa.string(), "DATE": lambda pa: pa.date32(), "TIME": lambda pa: pa.time64("us"),
    "TIMESTAMP": lambda pa: pa.timestamp("us"), "TIMESTAMPTZ": lambda pa: pa.timestamp("us", tz="UTC"),
    "INTERVAL": lambda pa: pa.duration("us"), "BINARY": lambda pa: pa.binary(), "JSON": lambda pa: pa.string(),
    "UUID": lambda pa: pa.string(),
}


def _unconstrained_decimal(pa: Any, values: list[Any]) -> Any:
    """A NUMERIC without precision (SUM, AVG): 38 digits, the largest scale of the first batch."""
    scales = [-int(v.as_tuple().exponent) for v in values if isinstance(v, decimal.Decimal) and v.is_finite()]
    return pa.decimal128(38, min(max([0, *scales]), 37))


def _inferred(pa: Any, name: str, values: list[Any]) -> Any:
    kinds = {type(v) for v in values if v is not None}
    if not kinds:
        return pa.string()
    if kinds <= {int}:
        return pa.int64()
    if kinds <= {int, float}:
        return pa.float64()
    if kinds <= {bool}:
        return pa.bool_()
    if kinds <= {bytes}:
        return pa.binary()
    if kinds <= {str}:
        return pa.string()
    try:
        return pa.array(values).type
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.string()  # mixed values (SQLite allows them): carried as text


def _converter(pa: Any, name: str, arrow_type: Any) -> Callable[[list[Any]], Any]:
    """Values of one column -> an Arrow array of its type, the fast path first."""
    is_text = pa.types.is_string(arrow_type)
    is_decimal = pa.types.is_decimal(arrow_type)

    def convert(values: list[Any]) -> Any:
        try:
            return pa.array(values, type=arrow_type)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            pass
        if is_text:
            return pa.array([_as_text(v) for v in values], type=arrow_type)
        if is_decimal:  # more digits than the first batch had: rounded to the column's scale
            quantum = decimal.Decimal(1).scaleb(-arrow_type.scale)
            return pa.array([None if v is None else decimal.Decimal(v).quantize(quantum) for v in values],
                            type=arrow_type)
        if pa.types.is_floating(arrow_type):
            return pa.array([None if v is None else float(v) for v in values], type=arrow_type)
        raise WarehouseError(f"Column {name!r} holds values of several types; CAST it in the query to download it "
                             "as Arrow (or ask for CSV).")

    return convert


def _as_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return json.dumps(value, default=str, ensure_ascii=False)
    converted = json_value(value)
    return converted if isinstance(converted, str) else json.dumps(converted)
