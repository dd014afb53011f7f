"""The composition root: the only reader of settings; builds services, routes and middleware."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

from cross_web import HTTPException
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError, MissingQueryError
from strawberry.http import GraphQLRequestData
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET, UnsetType

from gateway import metrics
from gateway.auth import AuthFailure, TokenVerifier
from gateway.errors import GatewayError, Unauthenticated
from gateway.graphql.context import Context
from gateway.graphql.document_limits import DocumentLimits
from gateway.graphql.schema import build_schema
from gateway.http.dashboard import DashboardConfig, DashboardRoutes
from gateway.http.downloads import download_endpoint
from gateway.http.graphiql import graphiql_mount, render_graphiql_page
from gateway.http.ingest import ingest_endpoint
from gateway.http.limits import RequestLimits, decode_json_body
from gateway.http.metrics import mark_worker_exit, metrics_route
from gateway.http.middleware import REQUEST_ID_HEADER, MetricsMiddleware, RequestIdMiddleware
from gateway.http.oidc_flow import OidcClient
from gateway.http.refusals import refusal_response
from gateway.http.workbench import WorkbenchConfig, WorkbenchRoutes
from gateway.logging import configure_logging
from gateway.services.base import ServiceDeps
from gateway.services.catalog import CatalogService
from gateway.services.container import Services
from gateway.services.contracts import ContractsService
from gateway.services.dashboard import DashboardService
from gateway.services.downloads import DownloadCaps, DownloadService
from gateway.services.drift import DriftService
from gateway.services.drift_gate import PromotionGate
from gateway.services.events import EventsService
from gateway.services.events_relay import EventRelay
from gateway.services.history import HistoryService
from gateway.services.ingestion import IngestionService
from gateway.services.joins import JoinsService
from gateway.services.language import LanguageService
from gateway.services.lifecycle import LifecycleService
from gateway.services.queries import QueryService
from gateway.services.replay import ReplayService
from gateway.services.users import UsersService
from gateway.settings import Settings
from gateway.store.engine import create_catalog_engine, create_sync_catalog_engine, migrations_current
from gateway.store.unit_of_work import UnitOfWorkFactory
from gateway.warehouse.registry import open_warehouse
from planner.capabilities.bounds import FunctionBounds

log = logging.getLogger("spyne")
# How long /readyz waits for the warehouse to answer before it says "unreachable".
READY_PROBE_S = 5.0
__all__ = ["REQUEST_ID_HEADER", "RequestIdMiddleware", "authenticate", "build_services", "create_app"]


def build_services(settings: Settings) -> Services:
    engine = create_catalog_engine(settings.catalog_url)
    warehouse = open_warehouse(settings.warehouse_url, statement_timeout_ms=settings.statement_timeout_ms,
                               query_url=settings.warehouse_query_url, max_result_bytes=settings.max_result_bytes)
    deps = ServiceDeps(uow=UnitOfWorkFactory(engine, create_sync_catalog_engine(settings.catalog_url)),
                       warehouse=warehouse)
    EventRelay(deps.uow, deps.events)  # live events reach every worker through the catalog's outbox
    verifier = TokenVerifier(
        dev_secret=None if settings.oidc_enabled else settings.dev_secret,
        oidc_issuer=settings.oidc_issuer, oidc_audience=settings.oidc_audience,
        jwks_url=settings.jwks_url, role_claim=settings.role_claim,
        leeway_seconds=settings.token_leeway_seconds, max_lifetime_seconds=settings.token_max_lifetime_seconds,
    )
    catalog = CatalogService(deps)
    queries = QueryService(deps, catalog, max_rows=settings.max_rows, preview_ttl_seconds=settings.preview_ttl_seconds,
                           function_bounds=FunctionBounds(settings.function_max_bytes, settings.function_max_growth))
    ingestion = IngestionService(deps, lease_seconds=settings.ingest_lease_seconds)
    return Services(
        deps=deps,
        verifier=verifier,
        catalog=catalog,
        lifecycle=LifecycleService(deps, promotion_gate=PromotionGate(deps)),
        users=UsersService(deps, role_cache_seconds=settings.role_cache_seconds,
                           initial_mode=settings.initial_mode),
        events=EventsService(deps.events),
        dashboard=DashboardService(deps),
        queries=queries,
        contracts=ContractsService(deps),
        ingestion=ingestion,
        replay=ReplayService(deps, archive_dir=settings.archive_dir, liveness=ingestion.liveness),
        joins=JoinsService(deps),
        drift=DriftService(deps),
        downloads=DownloadService(deps, queries, DownloadCaps(max_rows=settings.max_export_rows,
                                                              max_bytes=settings.max_export_bytes)),
        history=HistoryService(deps),
        language=LanguageService(catalog, queries),
    )


async def authenticate(services: Services, authorization: str | None, request_id: str) -> Context:
    context = Context(services=services, request_id=request_id)
    try:
        token = await services.verifier.verify(authorization)
        context.principal = await services.users.principal_for(
            token.email, token.subject, token.role_claim, request_id=request_id, claims=dict(token.claims))
    except AuthFailure as failure:
        metrics.AUTH_FAILURES.labels(reason=failure.reason).inc()
        context.auth_error = failure
    except GatewayError as error:  # e.g. the catalog is unreachable while looking up the role
        context.auth_error = error
    return context


class GatewayGraphQL(GraphQL):
    """Strawberry's ASGI view with our context, authentication and offline GraphiQL page."""

    def __init__(self, services: Services, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.services = services

    async def get_context(  # type: ignore[override]
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        request_id = request.scope.get("state", {}).get("request_id") or uuid.uuid4().hex
        authorization = request.headers.get("authorization")
        if isinstance(request, WebSocket) and authorization is None:
            # Browsers cannot set headers on a WebSocket: subscriptions authenticate with the
            # connection_init payload instead (on_ws_connect below).
            return Context(services=self.services, request_id=request_id, request=request,
                           response=response, connection_params={})
        is_ide_page = (isinstance(request, Request) and request.method == "GET"
                       and "query" not in request.query_params)
        if authorization is None and is_ide_page:
            # The IDE page itself needs no token; nothing runs without one.
            return Context(services=self.services, request_id=request_id, request=request, response=response)
        context = await authenticate(self.services, authorization, request_id)
        context.request, context.response = request, response
        return context

    def decode_json(self, data: str | bytes) -> object:
        return decode_json_body(data)

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        """Strawberry's view, but every refusal it raises is JSON with ``extensions.code``.

        Strawberry answers a batch, a GET mutation, a body that is not JSON, an unsupported
        content type or an unknown ``operationName`` with a plain-text 400, which GraphiQL
        shows as "Unexpected token … not valid JSON".
        """
        try:
            return await super().run(request, context, root_value)
        except HTTPException as refusal:
            if isinstance(request, WebSocket):
                raise
            request_id = request.scope.get("state", {}).get("request_id")
            return refusal_response(refusal.status_code, refusal.reason, request_id=request_id)

    async def execute_single(  # type: ignore[override]
        self, request: Request, request_adapter: Any, sub_response: Any, context: Context,
        root_value: Any, request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """One operation over HTTP: queries (GET or POST) and mutations (POST); subscriptions
        only over the WebSocket (graphql-transport-ws), where they are authenticated once."""
        allowed = OperationType.from_http(request_adapter.method) - {OperationType.SUBSCRIPTION}
        try:
            return await self.schema.execute(
                request_data.query, root_value=root_value, variable_values=request_data.variables,
                context_value=context, operation_name=request_data.operation_name,
                allowed_operation_types=allowed, operation_extensions=request_data.extensions)
        except CannotGetOperationTypeError as error:
            raise HTTPException(400, error.as_http_error_reason()) from error
        except InvalidOperationTypeError as error:
            reason = ("Subscriptions run over a WebSocket at /graphql (graphql-transport-ws), not over HTTP."
                      if error.operation_type is OperationType.SUBSCRIPTION
                      else error.as_http_error_reason(request_adapter.method))
            raise HTTPException(400, reason) from error
        except MissingQueryError as error:
            raise HTTPException(400, "No GraphQL query found in the request: send {\"query\": …}.") from error

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return HTMLResponse(render_graphiql_page("/graphql"))

    async def on_ws_connect(  # type: ignore[override]
        self, context: Context
    ) -> UnsetType | dict[str, object] | None:
        """graphql-transport-ws ``connection_init``: ``{"Authorization": "Bearer …"}`` or refused."""
        params = context.connection_params or {}
        authorization = params.get("Authorization") or params.get("authorization")
        if isinstance(authorization, str):
            fresh = await authenticate(self.services, authorization, context.request_id)
            context.principal, context.auth_error = fresh.principal, fresh.auth_error
        if context.principal is None:
            error = context.auth_error or Unauthenticated(
                'Send {"Authorization": "Bearer <token>"} as the connection_init payload.')
            raise ConnectionRejectionError({"code": error.code, "message": error.message})
        return UNSET


def oidc_client(settings: Settings) -> OidcClient | None:
    """The browser sign-in through the provider (both pages), when a client id is configured."""
    if settings.oidc_issuer and settings.oidc_client_id:
        return OidcClient(settings.oidc_issuer, settings.oidc_client_id, settings.oidc_client_secret)
    return None


def dashboard_config(settings: Settings) -> DashboardConfig:
    return DashboardConfig(session_secret=settings.dev_secret, dev_sign_in=not settings.oidc_enabled,
                           oidc=oidc_client(settings))


def workbench_config(settings: Settings) -> WorkbenchConfig:
    return WorkbenchConfig(secret=settings.dev_secret, dev_tokens=not settings.oidc_enabled,
                           oidc=oidc_client(settings))


def create_app(settings: Settings, services: Services | None = None) -> Starlette:
    services = services or build_services(settings)
    limits = DocumentLimits(max_depth=settings.max_query_depth, max_aliases=settings.max_aliases,
                            max_selections=settings.max_query_selections, max_spreads=settings.max_fragment_spreads,
                            max_field_pairs=settings.max_field_pairs)
    schema = build_schema(limits=limits, max_tokens=settings.max_query_tokens)
    graphql_app = GatewayGraphQL(services, schema=schema, graphql_ide="graphiql",
                                 subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL])

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> JSONResponse:
        checks: dict[str, str] = {}
        try:
            async with services.deps.uow() as uow:
                await uow.system.epoch()
            checks["catalog"] = "ok"
        except Exception as exc:  # readiness reports, it does not raise
            checks["catalog"] = f"unreachable: {type(exc).__name__}"
        try:
            # Bounded whatever the driver does: a server that accepts and never answers would hold
            # a driver without a socket timeout (PyHive) for good, and the probe must answer.
            await asyncio.wait_for(services.deps.warehouse.ping(), READY_PROBE_S)
            checks["warehouse"] = "ok"
        except Exception as exc:
            checks["warehouse"] = f"unreachable: {type(exc).__name__}"
        try:
            current = await asyncio.to_thread(migrations_current, settings.catalog_url)
            checks["migrations"] = "current" if current else "pending: run `spyne migrate`"
        except Exception as exc:
            checks["migrations"] = f"unknown: {type(exc).__name__}"
        ready = checks == {"catalog": "ok", "warehouse": "ok", "migrations": "current"}
        found = services.warehouse()
        warehouse = {"engine": found.engine, "dialect": found.dialect, "capabilities": found.names()}
        return JSONResponse({"ready": ready, "checks": checks, "warehouse": warehouse},
                            status_code=200 if ready else 503)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        configure_logging()
        await services.users.ensure_mode()
        await services.verifier.warm_up()
        # Runs a killed predecessor left RUNNING are closed now, then every lease period.
        watcher = asyncio.create_task(services.ingestion.liveness.watch())
        # Everything imported so far lives for the whole process: keep the GC from scanning it.
        gc.collect()
        gc.freeze()
        yield
        watcher.cancel()
        # Streams the grace period cut off are writing their INTERRUPTED ending: let them finish.
        await services.ingestion.liveness.drain(timeout=5.0)
        mark_worker_exit()
        await services.downloads.drain()
        services.deps.warehouse.dispose()
        await services.deps.uow.dispose()

    routes = [
        # First: the router tries routes in order, and nearly every request is this one. Every
        # method reaches the view, so that a PUT is refused in JSON (405) like the rest.
        Route("/graphql", graphql_app),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        metrics_route(lambda authorization, request_id: authenticate(services, authorization, request_id),
                      refresh=services.contracts.refresh_gauges),
        *DashboardRoutes(services, lambda authorization, request_id: authenticate(services, authorization, request_id),
                         dashboard_config(settings)).routes(),
        graphiql_mount(),
        *WorkbenchRoutes(workbench_config(settings)).routes(),
        Route("/ingest/{contract_id}", ingest_endpoint(services, authenticate), methods=["POST"]),
        Route("/previews/{preview_id}/result", download_endpoint(services, authenticate), methods=["POST"]),
    ]
    from starlette.routing import WebSocketRoute

    routes.append(WebSocketRoute("/graphql", graphql_app))
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.services = services
    app.state.settings = settings
    # Added last = outermost: the request id exists before anything is counted or logged.
    # Innermost: bodies are capped (but /ingest/* streams) before any route reads them.
    app.add_middleware(RequestLimits)
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(RequestIdMiddleware)
    return app
