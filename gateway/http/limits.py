"""ASGI middleware: a cap on request bodies.

Without a cap, one POST of a few hundred megabytes to ``/graphql`` sits whole in memory before
anything looks at it. Bodies are read here up to the limit and handed on as they were; anything
longer is answered ``413`` with a GraphQL-shaped error (``INVALID_INPUT``) before the application
sees a byte. ``/ingest/*`` is exempt: it streams NDJSON line by line and bounds each record itself.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from cross_web import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.http.refusals import refusal_bytes

DEFAULT_MAX_BODY_BYTES = 1_048_576  # 1 MiB: a GraphQL document with its variables never needs more
STREAMING_PREFIXES = ("/ingest/",)


class RequestLimits:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
                 unlimited_prefixes: Sequence[str] = STREAMING_PREFIXES) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.unlimited_prefixes = tuple(unlimited_prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope.get("path", "")).startswith(self.unlimited_prefixes):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or ())
        declared = headers.get(b"content-length", b"").decode("latin-1").strip()
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            await _refuse(send, 413, self._too_large(int(declared)), _request_id(scope))
            return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = bool(message.get("more_body", False))
            if len(body) > self.max_body_bytes:
                await _refuse(send, 413, self._too_large(None), _request_id(scope))
                return
        await self.app(scope, _replay(bytes(body), receive), send)

    def _too_large(self, size: int | None) -> str:
        said = f"{size:,} bytes" if size is not None else "larger than that"
        return (f"The request body is {said}; the limit is {self.max_body_bytes:,} bytes. Send large "
                "data through POST /ingest/{contractId}, or split the request.")


def _request_id(scope: Scope) -> str | None:
    request_id = scope.get("state", {}).get("request_id")
    return request_id if isinstance(request_id, str) else None


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: wait for the disconnect, as the server would send it

    return replay


async def _refuse(send: Send, status: int, message: str, request_id: str | None) -> None:
    payload = refusal_bytes(message, request_id=request_id)
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": payload})


def decode_json_body(data: str | bytes) -> object:
    """A GraphQL request body as JSON: an object (or a list, which the view refuses as a batch).

    The stock decoder lets bytes that are not UTF-8 (``UnicodeDecodeError``) and bodies such as
    ``42`` or ``"x"`` through to code that expects an object, which answers 500; both are the
    client's mistake, so they are a plain 400 here.
    """
    try:
        value = json.loads(data)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError alike
        raise HTTPException(400, "The request body is not JSON (UTF-8); send {\"query\": …}.") from None
    except RecursionError:
        raise HTTPException(400, "The request body is nested too deeply.") from None
    if not isinstance(value, dict | list):
        raise HTTPException(400, "The request body must be a JSON object: {\"query\": …, \"variables\": {…}}.")
    return value
