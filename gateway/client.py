"""A small Python client for notebooks and scripts.

    from gateway.client import SpyneClient
    client = SpyneClient("http://127.0.0.1:8000/graphql", token="…")   # or SPYNE_URL / SPYNE_TOKEN
    preview = client.preview("SELECT status, COUNT(*) FROM orders GROUP BY status")
    print(preview)                    # tables, versions, guardrails, estimate
    result = preview.execute()        # runs exactly that preview: at most SPYNE_MAX_ROWS rows, as JSON
    result.to_dicts()                 # or result.to_pandas() when pandas is installed

    table = preview.to_arrow()        # every row, streamed through POST /previews/{id}/result
    frame = preview.to_pandas()       # or preview.to_polars(); needs spyne-gateway[notebook]

Errors from the gateway raise :class:`SpyneError` with the API's ``code``.
"""

from __future__ import annotations

import contextlib
import io
import os
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

DEFAULT_URL = "http://127.0.0.1:8000/graphql"
ARROW = "application/vnd.apache.arrow.stream"
MEDIA_TYPES = {"arrow": ARROW, "csv": "text/csv", "ndjson": "application/x-ndjson"}
NOTEBOOK_EXTRA = "pip install 'spyne-gateway[notebook]'"

_PREVIEW_FIELDS = """id sql originalSql dialect requiresConfirmation estimatedRows estimatedCostMs expiresAt
  tablesUsed { name version state physicalName rowCount }
  joins { joinId version joinType condition accepted leftTable rightTable }
  filters aggregations assumptions guardrails { type message requiresOverride }"""
_RESULT_FIELDS = """executionId previewId columns { name type } rows rowCount truncated elapsedMs
  explanation { plainEnglish tablesUsed joins filters aggregations assumptions }"""


class SpyneError(Exception):
    def __init__(self, code: str, message: str, extensions: Mapping[str, Any] | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.extensions = dict(extensions or {})


class TruncatedDownload(UserWarning):
    """The download stopped at the server's SPYNE_MAX_EXPORT_ROWS or SPYNE_MAX_EXPORT_BYTES."""


def _require(module: str, feature: str) -> Any:
    """An optional library, or an ImportError that says how to get it."""
    try:
        return __import__(module)
    except ImportError as exc:
        raise ImportError(f"{feature} needs {module}: {NOTEBOOK_EXTRA} (pyarrow, pandas and polars)") from exc


@dataclass(frozen=True)
class Result:
    execution_id: str
    preview_id: str
    columns: list[tuple[str, str]]
    rows: list[list[Any]]
    truncated: bool
    elapsed_ms: float
    explanation: dict[str, Any]

    @property
    def column_names(self) -> list[str]:
        return [name for name, _ in self.columns]

    def to_dicts(self) -> list[dict[str, Any]]:
        names = self.column_names
        return [dict(zip(names, row, strict=True)) for row in self.rows]

    def to_pandas(self) -> Any:
        try:
            import pandas as pd
        except ImportError as exc:  # pandas is optional: notebooks usually have it
            raise RuntimeError("to_pandas() needs pandas installed; to_dicts() works without it") from exc
        return pd.DataFrame(self.rows, columns=self.column_names)


@dataclass(frozen=True)
class Preview:
    client: SpyneClient = field(repr=False)
    data: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.data["id"])

    @property
    def sql(self) -> str:
        return str(self.data["sql"])

    @property
    def guardrails(self) -> list[dict[str, Any]]:
        return list(self.data["guardrails"])

    @property
    def needs_override(self) -> list[str]:
        return [g["type"] for g in self.guardrails if g["requiresOverride"]]

    def execute(self, overrides: Iterable[str] = ()) -> Result:
        """Runs the preview through ``executeQuery``: at most the server's SPYNE_MAX_ROWS rows, as JSON."""
        return self.client.execute(self.id, overrides)

    def to_arrow(self, overrides: Iterable[str] = ()) -> Any:
        """Every row as a ``pyarrow.Table``, streamed through the download (one execution recorded)."""
        return self.client.to_arrow(self.id, overrides)

    def to_pandas(self, overrides: Iterable[str] = ()) -> Any:
        _require("pandas", "to_pandas()")
        return self.to_arrow(overrides).to_pandas()

    def to_polars(self, overrides: Iterable[str] = ()) -> Any:
        polars = _require("polars", "to_polars()")
        return polars.from_arrow(self.to_arrow(overrides))

    def iter_batches(self, overrides: Iterable[str] = ()) -> Iterator[Any]:
        """``pyarrow.RecordBatch`` after batch, as they arrive: for results larger than memory."""
        return self.client.iter_batches(self.id, overrides)

    def correct(self, *corrections: Mapping[str, Any]) -> Preview:
        return self.client.correct(self.id, corrections)

    def __str__(self) -> str:
        return render_preview(self.data)


class SpyneClient:
    def __init__(self, url: str | None = None, token: str | None = None, *, timeout: float = 120.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.url = url or os.environ.get("SPYNE_URL") or DEFAULT_URL
        token = token or os.environ.get("SPYNE_TOKEN")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(headers=headers, timeout=timeout, transport=transport)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SpyneClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def graphql(self, document: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        try:
            response = self._http.post(self.url, json={"query": document, "variables": dict(variables or {})})
        except httpx.HTTPError as exc:
            raise SpyneError("UNREACHABLE", f"could not reach {self.url}: {exc}") from exc
        try:
            body = response.json()
        except ValueError:
            raise SpyneError("HTTP_ERROR", f"{response.status_code} from {self.url}") from None
        if body.get("errors"):
            first = body["errors"][0]
            extensions = first.get("extensions") or {}
            raise SpyneError(str(extensions.get("code", "ERROR")), first.get("message", ""), extensions)
        return dict(body["data"])

    def preview(self, sql: str, *, dialect: str | None = None,
                pins: Mapping[str, int] | None = None) -> Preview:
        document = f"""mutation($i: PreviewQueryInput!) {{ previewQuery(input: $i) {{ {_PREVIEW_FIELDS} }} }}"""
        pin_list = [{"table": t, "version": v} for t, v in (pins or {}).items()]
        data = self.graphql(document, {"i": {"sql": sql, "dialect": dialect, "pins": pin_list}})
        return Preview(self, data["previewQuery"])

    def execute(self, preview_id: str, overrides: Iterable[str] = ()) -> Result:
        document = f"""mutation($id: ID!, $o: [GuardrailType!]) {{
          executeQuery(previewId: $id, overrides: $o) {{ {_RESULT_FIELDS} }} }}"""
        data = self.graphql(document, {"id": preview_id, "o": list(overrides)})["executeQuery"]
        return Result(execution_id=data["executionId"], preview_id=data["previewId"],
                      columns=[(c["name"], c["type"]) for c in data["columns"]], rows=data["rows"],
                      truncated=data["truncated"], elapsed_ms=data["elapsedMs"], explanation=data["explanation"])

    # --- downloads: POST /previews/{id}/result ------------------------------------------------

    def download_url(self, preview_id: str) -> str:
        base = self.url[: -len("/graphql")] if self.url.endswith("/graphql") else self.url.rstrip("/")
        return f"{base}/previews/{preview_id}/result"

    @contextlib.contextmanager
    def download(self, preview_id: str, media_type: str = ARROW,
                 overrides: Iterable[str] = ()) -> Iterator[httpx.Response]:
        """The streamed download response (status checked); read it with ``iter_bytes()``."""
        try:
            with self._http.stream("POST", self.download_url(preview_id), json={"overrides": list(overrides)},
                                   headers={"Accept": media_type}) as response:
                if response.status_code != 200:
                    response.read()
                    raise _download_error(response)
                yield response
        except httpx.HTTPError as exc:
            raise SpyneError("UNREACHABLE", f"the download from {self.url} broke off: {exc}") from exc

    @contextlib.contextmanager
    def _arrow_stream(self, preview_id: str, overrides: Iterable[str], feature: str) -> Iterator[Any]:
        pa = _require("pyarrow", feature)
        import pyarrow.ipc  # noqa: F401  (the submodule)

        with self.download(preview_id, ARROW, overrides) as response:
            # Buffered: pyarrow reads whole messages, a chunk may hold part of one.
            yield pa.ipc.open_stream(io.BufferedReader(ChunkReader(response.iter_bytes()), 1 << 16))

    def iter_batches(self, preview_id: str, overrides: Iterable[str] = ()) -> Iterator[Any]:
        with self._arrow_stream(preview_id, overrides, "iter_batches()") as reader:
            yield from _batches(reader)

    def to_arrow(self, preview_id: str, overrides: Iterable[str] = ()) -> Any:
        with self._arrow_stream(preview_id, overrides, "to_arrow()") as reader:
            import pyarrow as pa

            return pa.Table.from_batches(list(_batches(reader)), schema=reader.schema)

    def correct(self, preview_id: str, corrections: Sequence[Mapping[str, Any]]) -> Preview:
        document = f"""mutation($id: ID!, $c: [CorrectionInput!]!) {{
          correctQuery(previewId: $id, corrections: $c) {{ {_PREVIEW_FIELDS} }} }}"""
        return Preview(self, self.graphql(document, {"id": preview_id, "c": list(corrections)})["correctQuery"])

    def query(self, sql: str, *, overrides: Iterable[str] = (), **kwargs: Any) -> Result:
        """Preview and execute in one call (the preview is still stored and checked)."""
        return self.preview(sql, **kwargs).execute(overrides)


def _rows(count: int) -> str:
    return f"{count:,} row" if count == 1 else f"{count:,} rows"


def _join(j: Mapping[str, Any]) -> str:
    tables = f"{j.get('leftTable') or '?'} {j['joinType']} JOIN {j.get('rightTable') or '?'}"
    if j["condition"] is None:
        return f"{tables} with no condition: every row of one side with every row of the other"
    status = f"accepted join {j['joinId']} v{j['version']}" if j["accepted"] else "not an accepted join"
    return f"{tables} ON {j['condition']} — {status}"
def _download_error(response: httpx.Response) -> SpyneError:
    try:
        first = response.json()["errors"][0]
    except (ValueError, KeyError, IndexError, TypeError):
        return SpyneError("HTTP_ERROR", f"{response.status_code} from {response.url}")
    extensions = first.get("extensions") or {}
    return SpyneError(str(extensions.get("code", "ERROR")), first.get("message", ""), extensions)


def _batches(reader: Any) -> Iterator[Any]:
    """The stream's record batches; a warning if the server says it stopped at its cap."""
    while True:
        try:
            batch, metadata = reader.read_next_batch_with_custom_metadata()
        except StopIteration:
            return
        if metadata is not None and metadata.get(b"spyne.truncated") == b"true":
            warnings.warn("The download stopped at the server's cap (SPYNE_MAX_EXPORT_ROWS or "
                          "SPYNE_MAX_EXPORT_BYTES): add a filter, or ask for a higher cap.", TruncatedDownload,
                          stacklevel=4)
        yield batch


class ChunkReader(io.RawIOBase):
    """A streamed response body as a file that pyarrow reads from; ``passed`` (if given) sees each
    chunk as it is read (the CLI counts bytes with it)."""

    def __init__(self, chunks: Iterator[bytes], passed: Callable[[bytes], None] | None = None) -> None:
        self._chunks = chunks
        self._passed = passed
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            if self._passed is not None:
                self._passed(chunk)
            self._pending = memoryview(chunk)
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def render_preview(data: Mapping[str, Any]) -> str:
    """The preview as a person reads it in a terminal."""
    lines = ["Tables:"]
    for t in data["tablesUsed"]:
        rows = _rows(t["rowCount"]) if t.get("rowCount") is not None else "rows unknown"
        lines.append(f"  {t['name']} v{t['version']} ({t['state']}, {rows})")
    for j in data.get("joins") or ():
        lines.append(f"Join: {_join(j)}")
    for label, key in (("Filters", "filters"), ("Aggregations", "aggregations"), ("Assumptions", "assumptions")):
        if data.get(key):
            lines.append(f"{label}: " + "; ".join(data[key]))
    estimate = data.get("estimatedRows")
    lines.append(f"Estimate: {_rows(estimate)}" if estimate is not None else "Estimate: unknown")
    for g in data.get("guardrails") or ():
        mark = "BLOCKS until overridden" if g["requiresOverride"] else "warning"
        lines.append(f"Guardrail {g['type']} ({mark}): {g['message']}")
    lines.append("SQL to run:")
    lines.extend("  " + line for line in str(data["sql"]).splitlines())
    return "\n".join(lines)
