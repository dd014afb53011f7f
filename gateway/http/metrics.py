"""``GET /metrics``: the Prometheus text exposition, for a scraper holding a bearer token.

With several uvicorn workers (``PROMETHEUS_MULTIPROC_DIR`` set before import) the answer
aggregates every worker's files, so a scrape that lands on any worker sees the whole process
group. A worker that exits marks its files dead (:func:`mark_worker_exit`), so its live gauges
stop counting while its counters keep their totals.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable

from prometheus_client import multiprocess
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway import metrics
from gateway.domain import Capability
from gateway.errors import GatewayError
from gateway.graphql.context import Context
from gateway.services.access import require

Authenticate = Callable[[str | None, str], Awaitable[Context]]
Refresh = Callable[[], Awaitable[None]]
log = logging.getLogger("spyne.metrics")


def _refusal(error: GatewayError, request_id: str) -> JSONResponse:
    status = 401 if error.code == "UNAUTHENTICATED" else 403
    headers = {"WWW-Authenticate": 'Bearer realm="spyne"'} if status == 401 else None
    return JSONResponse({"error": {"code": error.code, "message": error.message, "requestId": request_id}},
                        status_code=status, headers=headers)


def metrics_route(authenticate: Authenticate, refresh: Refresh | None = None) -> Route:
    """``refresh`` recomputes gauges that live in the catalog (SLA, lag) before answering."""

    async def endpoint(request: Request) -> Response:
        request_id = request.scope.get("state", {}).get("request_id", "")
        context = await authenticate(request.headers.get("authorization"), request_id)
        try:
            require(context.require_principal(), Capability.SCRAPE_METRICS)
        except GatewayError as error:
            return _refusal(error, request_id)
        if refresh is not None:
            try:
                await refresh()
            except Exception as exc:  # a catalog outage must not cost the scrape the other metrics
                log.warning("could not refresh catalog gauges: %s", type(exc).__name__)
        body, content_type = metrics.render()
        return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})

    return Route("/metrics", endpoint, methods=["GET"])


def mark_worker_exit() -> None:
    """Called on shutdown: in multiprocess mode, retire this worker's live-gauge files."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
