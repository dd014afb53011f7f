"""Every service of one running gateway, built once by the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.auth import TokenVerifier
from gateway.services.base import ServiceDeps
from gateway.services.catalog import CatalogService
from gateway.services.contracts import ContractsService
from gateway.services.dashboard import DashboardService
from gateway.services.downloads import DownloadService
from gateway.services.drift import DriftService
from gateway.services.events import EventsService
from gateway.services.history import HistoryService
from gateway.services.ingestion import IngestionService
from gateway.services.joins import JoinsService
from gateway.services.language import LanguageService
from gateway.services.lifecycle import LifecycleService
from gateway.services.queries import QueryService
from gateway.services.replay import ReplayService
from gateway.services.users import UsersService
from gateway.warehouse.contract import Capabilities


@dataclass
class Services:
    deps: ServiceDeps
    verifier: TokenVerifier
    catalog: CatalogService
    lifecycle: LifecycleService
    users: UsersService
    events: EventsService
    dashboard: DashboardService
    queries: QueryService
    contracts: ContractsService
    ingestion: IngestionService
    replay: ReplayService
    joins: JoinsService
    drift: DriftService
    downloads: DownloadService
    history: HistoryService
    language: LanguageService

    def warehouse(self) -> Capabilities:
        """What the configured warehouse is and can do (GraphQL ``warehouse``, ``/readyz``)."""
        return self.deps.warehouse.capabilities
