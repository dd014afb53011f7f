"""ASGI middleware: a request id for every request, and its count, latency and log line.

Route labels are bounded: the matched route's path template (``/ingest/{contract_id}``, the
mount prefix for static files), ``unmatched`` for anything else — never the raw path, which a
client controls.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway import metrics
from gateway.logging import REQUEST_ID

REQUEST_ID_HEADER = "x-request-id"
UNMATCHED = "unmatched"

access_log = logging.getLogger("spyne.http")


def _incoming_request_id(scope: Scope) -> str:
    for name, value in scope.get("headers") or ():
        if name == REQUEST_ID_HEADER.encode():
            text = value.decode("latin-1")
            # A caller's id is kept only when it is short and printable: it ends up in logs.
            if text and len(text) <= 64 and text.isprintable():
                return text
            break
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Gives every request an id (or keeps the caller's), echoed back and used in logs and audit."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        token = REQUEST_ID.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((REQUEST_ID_HEADER.encode(), request_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            REQUEST_ID.reset(token)


def route_label(scope: Scope) -> str:
    """The matched route's template; Starlette's router leaves the route in the scope."""
    route: Any = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


class MetricsMiddleware:
    """Counts requests by route and status class, times them, and writes one access-log line.

    WebSockets (subscriptions) are counted once, when they close, under status ``ws``.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # The labelled series by (route, status class), made on first use: ``labels()`` costs a
        # lock and a validation per call, and both label sets are bounded (see the docstring).
        self._series: dict[tuple[str, str], tuple[Any, Any]] = {}

    def _series_of(self, route: str, status_class: str) -> tuple[Any, Any]:
        series = self._series.get((route, status_class))
        if series is None:
            series = self._series[(route, status_class)] = (
                metrics.REQUESTS.labels(route=route, status=status_class), metrics.REQUEST_LATENCY.labels(route=route))
        return series

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500 if scope["type"] == "http" else 0

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            elapsed = time.perf_counter() - started
            route = route_label(scope)
            status_class = f"{status // 100}xx" if scope["type"] == "http" else "ws"
            count, latency = self._series_of(route, status_class)
            count.inc()
            latency.observe(elapsed)
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    "%s %s %s", scope.get("method", "WS"), route, status or status_class,
                    extra={"method": scope.get("method", "WS"), "route": route, "status": status,
                           "duration_ms": round(elapsed * 1000, 3)},
                )
