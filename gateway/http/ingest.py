"""``POST /ingest/{contractId}``: NDJSON in, an ``IngestionResult`` out, streamed both ways.

The body is read chunk by chunk and cut into lines; lines go to the ingestion service in
batches, so a 1 GB file never sits in memory. A line longer than the record limit is not
buffered whole: its first part is kept for the quarantine, the rest skipped up to the newline.
A line that is not UTF-8 is quarantined with its bytes base64-encoded (``base64:…``), never
decoded with replacement characters.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from gateway.errors import GatewayError
from gateway.services.ingestion import UNPARSED, Raw
from gateway.services.ingestion_validate import BASE64_PREFIX, MAX_RAW_CHARS, TOO_LONG, InvalidUtf8

BATCH_LINES = 10_000
KEEP_OF_LONG_LINE = 65_536
STATUS = {"UNAUTHENTICATED": 401, "FORBIDDEN": 403, "MODE_DISABLED": 403, "INVALID_INPUT": 400,
          "CONFLICT": 409, "WAREHOUSE_ERROR": 503, "TIMEOUT": 504}

Authenticate = Callable[[Any, str | None, str], Awaitable[Any]]


async def ndjson_batches(chunks: AsyncIterator[bytes], batch_lines: int = BATCH_LINES) -> AsyncIterator[list[Raw]]:
    """Lines of an NDJSON byte stream, numbered from 1, in batches; blank lines are skipped."""
    pending = bytearray()
    overflow = False  # inside a line already past the limit: drop bytes until its newline
    number = 0
    batch: list[Raw] = []
    limit = MAX_RAW_CHARS * 4  # bytes: a record of MAX_RAW_CHARS characters fits

    def emit(data: bytes, too_long: bool) -> None:
        nonlocal number
        number += 1
        if too_long:  # only its start is kept, and a cut may split a character
            batch.append((number, data.decode("utf-8", errors="replace") + "…", TOO_LONG))
            return
        try:
            text = data.decode("utf-8").rstrip("\r")
        except UnicodeDecodeError as bad:
            # Never replaced silently: quarantined with the bytes exactly as they came.
            raw = BASE64_PREFIX + base64.b64encode(data).decode("ascii")
            batch.append((number, raw, InvalidUtf8(bad.start, bad.reason)))
            return
        if text.strip():
            batch.append((number, text, UNPARSED))

    async for chunk in chunks:
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            if end < 0:
                if not overflow:
                    pending += chunk[start:]
                    if len(pending) > limit:
                        emit(bytes(pending[:KEEP_OF_LONG_LINE]), True)
                        pending.clear()
                        overflow = True
                break
            if overflow:
                overflow = False  # the line was counted when it overflowed
            else:
                pending += chunk[start:end]
                emit(bytes(pending), False)
            pending.clear()
            start = end + 1
            if len(batch) >= batch_lines:
                yield batch
                batch = []
    if pending and not overflow:
        emit(bytes(pending), False)
    if batch:
        yield batch


def ingest_endpoint(services: Any, authenticate: Authenticate) -> Callable[[Request], Awaitable[JSONResponse]]:
    async def endpoint(request: Request) -> JSONResponse:
        request_id = request.scope.get("state", {}).get("request_id") or uuid.uuid4().hex
        context = await authenticate(services, request.headers.get("authorization"), request_id)
        try:
            principal = context.require_principal()
            result = await services.ingestion.ingest_stream(
                principal, request.path_params["contract_id"], ndjson_batches(request.stream()), source="ndjson")
        except GatewayError as error:
            return JSONResponse({"error": {"code": error.code, "message": error.message, **error.extensions,
                                           "requestId": request_id}},
                                status_code=STATUS.get(error.code, 400))
        return JSONResponse({"runId": result.run_id, "accepted": result.accepted,
                             "duplicates": result.duplicates, "quarantined": result.quarantined,
                             "errors": list(result.errors)})

    return endpoint
