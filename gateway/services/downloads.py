"""Downloads: a stored preview's full result, streamed in a file format (``POST /previews/{id}/result``).

The preview is checked exactly as ``executeQuery`` checks it (``QueryService.runnable``: owner,
expiry, staleness, rights, overrides), then run under the download's own row cap. The warehouse
driver is synchronous: one worker thread fetches a batch, encodes it and hands the bytes over a
short queue to the response, which sends them as they come. The queue is bounded, so a slow reader
slows the fetching instead of filling memory; a reader that goes away cancels the statement in
flight. One execution is recorded when the first batch is ready (its id is a response header)
and completed with the row count when the last has gone (``STREAMING`` until then).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from gateway import metrics
from gateway.errors import GatewayError, Timeout
from gateway.records import Principal
from gateway.result_formats import FORMAT_NAMES, Encoder, encoder_for
from gateway.services.base import ServiceDeps
from gateway.services.queries import QueryService
from gateway.store.queries import StoredPreview
from gateway.warehouse.stream import (
    DEFAULT_BATCH_ROWS,
    CancelSwitch,
    RowStream,
    StreamCancelled,
    StreamColumn,
)
from planner import Plan, with_row_cap

log = logging.getLogger("spyne.downloads")

# The first batch decides the status line (a refusal or failure is still a JSON error then) and,
# on engines that type per value, the column types: small enough to answer soon, large enough
# to see most columns' values.
FIRST_BATCH_ROWS = 8_192
QUEUE_DEPTH = 4  # encoded batches waiting for the reader: bounds the memory of one download


@dataclass(frozen=True, slots=True)
class DownloadCaps:
    max_rows: int
    max_bytes: int


@dataclass(frozen=True, slots=True)
class DownloadSummary:
    rows: int
    bytes: int
    truncated: bool
    elapsed_ms: float


@dataclass
class Download:
    """An open download: what the response needs before its first byte, then the bytes."""

    execution_id: int
    preview_id: str
    media_type: str
    columns: tuple[StreamColumn, ...]
    caps: DownloadCaps
    body: AsyncIterator[bytes]


def download_path(preview_id: str) -> str:
    """Where a preview's full result is downloaded (``POST``; the route is mounted by the app)."""
    return f"/previews/{preview_id}/result"


class DownloadService:
    def __init__(self, deps: ServiceDeps, queries: QueryService, caps: DownloadCaps, *,
                 batch_rows: int = DEFAULT_BATCH_ROWS) -> None:
        self._deps = deps
        self._queries = queries
        self.caps = caps
        self._batch_rows = batch_rows
        self._finishing: set[asyncio.Task[None]] = set()

    async def open(self, principal: Principal, preview_id: str, media_type: str,
                   overrides: Sequence[str] = ()) -> Download:
        stored, planned = await self._queries.runnable(principal, preview_id, overrides)
        started = time.perf_counter()
        switch = CancelSwitch()
        opening = asyncio.ensure_future(self._first_batch(with_row_cap(planned, self.caps.max_rows), media_type,
                                                          switch))
        try:
            # Shielded: a reader that goes away now (its task cancelled) must not leave the query
            # running in its worker thread until the statement timeout.
            stream, first, encoder, header = await asyncio.shield(opening)
        except asyncio.CancelledError:
            switch.cancel()
            with contextlib.suppress(BaseException):
                # The worker thread stops the statement and closes the stream; one that opened
                # all the same, just as the cancel came, is closed here.
                stream, *_ = await opening
                await self._deps.warehouse.run(stream.close)
            await self._queries.record_execution(principal, stored, planned, overrides, status="CANCELLED",
                                                 elapsed_ms=(time.perf_counter() - started) * 1000)
            metrics.QUERY_DOWNLOADS.labels(format=FORMAT_NAMES[media_type], outcome="cancelled").inc()
            metrics.QUERY_EXECUTED.labels(status="cancelled").inc()
            log.info("download of preview %s: the client went away before the first rows; its query was stopped",
                     stored.id)
            raise
        except GatewayError as failed:
            await self._queries.record_execution(principal, stored, planned, overrides, status="FAILED",
                                                 error=failed)
            metrics.QUERY_EXECUTED.labels(status="timeout" if isinstance(failed, Timeout) else "failed").inc()
            raise
        execution_id = await self._queries.record_execution(principal, stored, planned, overrides,
                                                            status="STREAMING")
        pump = _Pump(stream, encoder, header, first, self.caps)
        body = self._body(pump, execution_id, stored, planned, started, FORMAT_NAMES[media_type])
        return Download(execution_id=execution_id, preview_id=stored.id, media_type=media_type,
                        columns=stream.columns, caps=self.caps, body=body)

    async def _first_batch(self, sql: str, media_type: str, switch: CancelSwitch
                           ) -> tuple[RowStream, Sequence[Sequence[Any]], Encoder, bytes]:
        """Open the stream and fetch its first rows (which decide the status line); the stream is
        closed again when anything fails, a cancel through ``switch`` included."""
        warehouse = self._deps.warehouse
        stream: RowStream = await warehouse.run(
            lambda: warehouse.open_stream(sql, batch_rows=self._batch_rows, switch=switch))
        try:
            first = await warehouse.run(lambda: next(stream.batches(FIRST_BATCH_ROWS), []))
            encoder = encoder_for(media_type, stream.columns)
            return stream, first, encoder, encoder.header(first)
        except BaseException:
            await warehouse.run(stream.close)
            raise

    async def _body(self, pump: _Pump, execution_id: int, stored: StoredPreview, planned: Plan,
                    started: float, format_name: str) -> AsyncIterator[bytes]:
        outcome: tuple[str, GatewayError | None] = ("cancelled", None)
        loop = asyncio.get_running_loop()
        producer = loop.run_in_executor(None, pump.run, loop)
        try:
            while True:
                chunk = await pump.next_chunk()
                if chunk is None:
                    break
                yield chunk
            await producer
            outcome = ("truncated" if pump.truncated else "ok", None)
        except StreamCancelled:
            return
        except GatewayError as failed:
            outcome = ("failed", failed)
            log.warning("download %s of preview %s stopped: %s", execution_id, stored.id, failed.code)
            raise
        finally:
            pump.stop()
            # The reader may be gone (its task cancelled): the record is completed apart from it.
            task = loop.create_task(self._finish(producer, pump, execution_id, outcome, started, format_name,
                                                 planned))
            self._finishing.add(task)
            task.add_done_callback(self._finishing.discard)

    async def _finish(self, producer: asyncio.Future[None], pump: _Pump, execution_id: int,
                      outcome: tuple[str, GatewayError | None], started: float, format_name: str,
                      planned: Plan) -> None:
        with contextlib.suppress(BaseException):
            await producer  # the worker thread has closed the stream (and its connection)
        kind, error = outcome
        status = {"ok": "OK", "truncated": "OK", "failed": "FAILED", "cancelled": "CANCELLED"}[kind]
        elapsed_ms = (time.perf_counter() - started) * 1000
        metrics.QUERY_DOWNLOADS.labels(format=format_name, outcome=kind).inc()
        metrics.QUERY_DOWNLOAD_ROWS.labels(format=format_name).inc(pump.rows)
        metrics.QUERY_DOWNLOAD_BYTES.labels(format=format_name).inc(pump.bytes)
        metrics.QUERY_EXECUTED.labels(status=status.lower()).inc()
        metrics.QUERY_LATENCY.labels(phase="download").observe(elapsed_ms / 1000)
        if status == "OK":
            for join in planned.joins:
                if join.accepted_join_id:
                    metrics.JOIN_USAGE.labels(join_id=join.accepted_join_id).inc()
        try:
            await self._queries.finish_execution(execution_id, status=status,
                                                 error_code=error.code if error else None,
                                                 rows=pump.rows, elapsed_ms=elapsed_ms)
        except Exception:  # the download itself is over; the record stays STREAMING
            log.exception("could not complete the record of download %s", execution_id)

    async def drain(self) -> None:
        """Wait for the records of finished downloads (shutdown, tests)."""
        while self._finishing:
            await asyncio.gather(*list(self._finishing), return_exceptions=True)


class _Pump:
    """The worker thread's side: fetch, cap, encode, hand over; and the reader's side: take."""

    def __init__(self, stream: RowStream, encoder: Encoder, header: bytes, first: Sequence[Sequence[Any]],
                 caps: DownloadCaps) -> None:
        self._stream = stream
        self._encoder = encoder
        self._header = header
        self._first = first
        self._caps = caps
        self._slots = threading.Semaphore(QUEUE_DEPTH)
        self._stopped = threading.Event()
        self._queue: asyncio.Queue[bytes | BaseException | None] = asyncio.Queue()
        self.rows = 0
        self.bytes = 0
        self.truncated = False

    # --- worker thread ---

    def run(self, loop: asyncio.AbstractEventLoop) -> None:
        def hand_over(item: bytes | BaseException | None) -> bool:
            while not self._slots.acquire(timeout=0.2):
                if self._stopped.is_set():
                    return False
            loop.call_soon_threadsafe(self._queue.put_nowait, item)
            return True

        try:
            with self._stream:
                if not self._send(self._header, hand_over):
                    return
                batches = self._stream.batches()
                batch: Sequence[Sequence[Any]] | None = self._first
                while batch and self._send_rows(batch, hand_over):
                    batch = next(batches, None)
                if self._stopped.is_set():
                    return
                self._send(self._encoder.footer(self.truncated), hand_over)
                hand_over(None)
        except StreamCancelled:
            return
        except GatewayError as error:
            hand_over(error)
        except BaseException as error:  # unexpected: masked by the HTTP layer, logged there
            hand_over(error)

    def _send(self, chunk: bytes, hand_over: Callable[[bytes | BaseException | None], bool]) -> bool:
        if not chunk:
            return not self._stopped.is_set()
        self.bytes += len(chunk)
        return hand_over(chunk)

    def _send_rows(self, rows: Sequence[Sequence[Any]],
                   hand_over: Callable[[bytes | BaseException | None], bool]) -> bool:
        """Encode and send one batch within the caps; False once the download must stop."""
        room_rows = self._caps.max_rows - self.rows
        if len(rows) > room_rows:
            rows, self.truncated = rows[:room_rows], True
        chunk = self._encoder.encode(rows)
        room_bytes = self._caps.max_bytes - self.bytes - len(_FOOTER_ROOM)
        while len(chunk) > room_bytes and rows:
            # Past the byte cap: send as many whole rows as fit, then stop.
            self.truncated = True
            keep = min(len(rows) - 1, int(len(rows) * room_bytes / len(chunk)))
            rows = rows[:max(keep, 0)]
            chunk = self._encoder.encode(rows)
        self.rows += len(rows)
        if not self._send(chunk, hand_over):
            return False
        return not self.truncated

    # --- reader (event loop) ---

    async def next_chunk(self) -> bytes | None:
        item = await self._queue.get()
        self._slots.release()
        if isinstance(item, BaseException):
            raise item
        return item

    def stop(self) -> None:
        """The reader is done (or gone): stop fetching, stop the statement in flight."""
        if not self._stopped.is_set():
            self._stopped.set()
            self._stream.cancel()
            self._queue.put_nowait(StreamCancelled("the reader went away"))  # wakes a waiting reader


# Room kept under the byte cap for the end of the stream (Arrow's end marker and truncation note).
_FOOTER_ROOM = b"\x00" * 512
