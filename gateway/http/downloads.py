"""``POST /previews/{previewId}/result``: a stored preview's full result, streamed.

Bearer token; body ``{"overrides": [...]}`` (optional); the format is the one ``Accept`` asks
(:data:`OFFERED`, best quality first; ``*/*`` or none means CSV). The status and headers go out
when the first batch is ready, so the usual refusals are a JSON error with a 4xx status, shaped
like GraphQL's (``{"errors": [{"message", "extensions": {"code"}}]}``). A failure after the first
byte (the warehouse fails mid-way) can only break the stream: the response ends without its
final chunk, which every HTTP client reports as an incomplete body.

The response listens for the client going away while it waits for the warehouse, and stops the
query then, not at the next write.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from gateway.errors import GatewayError, InvalidInput, code_of, extensions_of
from gateway.result_formats import ARROW, CSV, FORMAT_NAMES, NDJSON, arrow_available
from gateway.services.downloads import Download
from planner import GUARDRAIL_TYPES

log = logging.getLogger("spyne.downloads")

OFFERED = (ARROW, CSV, NDJSON)
EXTENSIONS = {ARROW: "arrows", CSV: "csv", NDJSON: "ndjson"}
# Refusals before the first byte: the same codes as GraphQL, with an HTTP status that says the kind.
STATUS = {"UNAUTHENTICATED": 401, "FORBIDDEN": 403, "MODE_DISABLED": 403, "PREVIEW_NOT_FOUND": 404,
          "STALE_PREVIEW": 409, "GUARDRAIL_BLOCKED": 422, "INVALID_INPUT": 400, "TABLE_NOT_FOUND": 409,
          "TABLE_NOT_QUERYABLE": 409, "CATALOG_UNAVAILABLE": 503, "WAREHOUSE_ERROR": 502, "TIMEOUT": 504,
          "WAREHOUSE_UNSUPPORTED": 501}

Authenticate = Callable[[Any, str | None, str], Awaitable[Any]]


def download_endpoint(services: Any, authenticate: Authenticate) -> Callable[[Request], Awaitable[Any]]:
    async def endpoint(request: Request) -> Any:
        request_id = request.scope.get("state", {}).get("request_id") or uuid.uuid4().hex
        try:
            media_type = negotiate(request.headers.get("accept"))
            context = await authenticate(services, request.headers.get("authorization"), request_id)
            principal = context.require_principal()
            overrides = _overrides(await request.body())
            download = await _unless_the_client_leaves(request, services.downloads.open(
                principal, request.path_params["preview_id"], media_type, overrides))
            if download is None:
                return Response(status_code=499)  # nobody reads it: the client closed the connection
        except NotAcceptable as refused:
            return error_response(refused, request_id, status=406)
        except GatewayError as error:
            return error_response(error, request_id)
        return DownloadResponse(download)

    return endpoint


async def _unless_the_client_leaves(request: Request, opening: Awaitable[Download]) -> Download | None:
    """The download once its first rows are in; None when the client disconnects first (its
    query stopped by the service: the first rows can take as long as the whole query)."""
    task = asyncio.ensure_future(opening)

    async def disconnected() -> None:
        while (await request.receive())["type"] != "http.disconnect":
            pass

    watcher = asyncio.ensure_future(disconnected())
    try:
        await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
    except BaseException:  # this request itself is cancelled (the server stops): so is the opening
        task.cancel()
        raise
    finally:
        watcher.cancel()
    if not task.done():
        task.cancel()
        try:
            # Opened after all, just as the client left: the response's own listener sees the
            # disconnect at once, and the download ends (and is recorded) the usual way.
            return await task
        except asyncio.CancelledError:
            return None
    return task.result()


class NotAcceptable(InvalidInput):
    pass


def negotiate(accept: str | None) -> str:
    """The offered media type the client prefers (``q`` weights honoured), or NotAcceptable."""
    offered = [m for m in OFFERED if m != ARROW or arrow_available()]
    if not accept or not accept.strip():
        return CSV
    choices: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept.split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                with contextlib.suppress(ValueError):
                    quality = float(value)
        media = media.lower()
        if quality <= 0:
            continue
        if media in offered:
            choices.append((quality, -position, media))
        elif media in ("*/*", "text/*") and CSV in offered:
            choices.append((quality - 0.001, -position, CSV))  # a named type wins over a wildcard
        elif media == "application/*":
            choices.append((quality - 0.001, -position, offered[0]))
    if not choices:
        raise NotAcceptable(f"Cannot answer in {accept!r}; ask for one of {', '.join(offered)}.")
    return max(choices)[2]


def _overrides(body: bytes) -> list[str]:
    if not body.strip():
        return []
    try:
        payload = json.loads(body)
    except ValueError:
        raise InvalidInput('The body must be JSON: {"overrides": ["CARTESIAN_PRODUCT", …]} or empty.') from None
    overrides = payload.get("overrides", []) if isinstance(payload, dict) else None
    if overrides is None:
        overrides = []
    if not isinstance(overrides, list) or not all(isinstance(o, str) for o in overrides):
        raise InvalidInput('"overrides" must be a list of guardrail types, e.g. ["CARTESIAN_PRODUCT"].')
    unknown = sorted({o.upper() for o in overrides} - set(GUARDRAIL_TYPES))
    if unknown:
        raise InvalidInput(f"Unknown guardrail types in overrides: {', '.join(unknown)}; use "
                           f"{', '.join(GUARDRAIL_TYPES)}.")
    return [o.upper() for o in overrides]


def error_response(error: GatewayError, request_id: str, *, status: int | None = None) -> JSONResponse:
    code = code_of(error) or "INTERNAL"
    status = status or STATUS.get(code, 400)
    headers = {"WWW-Authenticate": 'Bearer realm="spyne"'} if status == 401 else None
    body = {"errors": [{"message": error.message,
                        "extensions": {"code": code, **extensions_of(error), "requestId": request_id}}]}
    return JSONResponse(body, status_code=status, headers=headers)


class DownloadResponse:
    """Streams a download, and stops its query as soon as the client disconnects."""

    def __init__(self, download: Download) -> None:
        self.download = download

    def headers(self) -> list[tuple[bytes, bytes]]:
        d = self.download
        filename = f"result-{d.preview_id}.{EXTENSIONS[d.media_type]}"
        media = d.media_type + ("; charset=utf-8" if d.media_type in (CSV, NDJSON) else "")
        pairs = {"content-type": media, "spyne-execution-id": str(d.execution_id), "spyne-preview-id": d.preview_id,
                 "spyne-format": FORMAT_NAMES[d.media_type], "spyne-max-export-rows": str(d.caps.max_rows),
                 "spyne-max-export-bytes": str(d.caps.max_bytes), "cache-control": "no-store",
                 "content-disposition": f'attachment; filename="{filename}"'}
        return [(k.encode(), v.encode()) for k, v in pairs.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = self.download.body
        streaming = asyncio.current_task()

        async def listen() -> None:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    if streaming is not None:
                        streaming.cancel()  # stops the wait for the warehouse; `aclose` stops the query
                    return

        listener = asyncio.create_task(listen())
        started = False
        try:
            # The body is started before anything else is awaited: a generator never started would
            # skip its cleanup on aclose() (the stream, the record), however early a cancel came.
            first = await anext(body, b"")
            await send({"type": "http.response.start", "status": 200, "headers": self.headers()})
            started = True
            if first:
                await send({"type": "http.response.body", "body": first, "more_body": True})
            async for chunk in body:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except (OSError, asyncio.CancelledError):
            log.info("download %s: the client went away; its query was stopped", self.download.execution_id)
        except GatewayError as failed:
            if not started:  # nothing sent yet: still a plain JSON error
                request_id = scope.get("state", {}).get("request_id") or uuid.uuid4().hex
                await error_response(failed, request_id)(scope, receive, send)
                return
            # After the first byte: end the response without its last chunk, so the client sees it broke.
            log.warning("download %s broke off: %s", self.download.execution_id, failed.code)
        finally:
            listener.cancel()
            await body.aclose()  # type: ignore[attr-defined]
