"""One unit of work per service operation: a session, its repositories, an explicit commit.

Repositories never commit; the service that opened the unit of work does, once. Leaving the
block without a commit rolls everything back. Integrity and lock errors from the database
surface as :class:`gateway.errors.Conflict`, since they mean another writer got there first.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from gateway.errors import CatalogUnavailable, Conflict
from gateway.store.dashboard import DashboardRepository
from gateway.store.drift import DriftRepository
from gateway.store.ingestion import IngestionRepository
from gateway.store.joins import JoinsRepository
from gateway.store.queries import QueriesRepository
from gateway.store.system import AuditRepository, SystemRepository, UsersRepository
from gateway.store.tables import TablesRepository


class UnitOfWork:
    tables: TablesRepository
    users: UsersRepository
    system: SystemRepository
    audit: AuditRepository
    dashboard: DashboardRepository
    ingestion: IngestionRepository
    queries: QueriesRepository
    joins: JoinsRepository
    drift: DriftRepository

    def __init__(self, sessions: async_sessionmaker[AsyncSession],
                 on_epoch_committed: Callable[[], None] | None = None) -> None:
        self._sessions = sessions
        self._session: AsyncSession | None = None
        self._on_epoch_committed = on_epoch_committed

    @property
    def session(self) -> AsyncSession:
        assert self._session is not None, "use the unit of work inside `async with`"
        return self._session

    async def __aenter__(self) -> UnitOfWork:
        self._session = self._sessions()
        self.tables = TablesRepository(self._session)
        self.users = UsersRepository(self._session)
        self.system = SystemRepository(self._session)
        self.audit = AuditRepository(self._session)
        self.dashboard = DashboardRepository(self._session)
        self.ingestion = IngestionRepository(self._session)
        self.queries = QueriesRepository(self._session)
        self.joins = JoinsRepository(self._session)
        self.drift = DriftRepository(self._session)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        session = self.session
        try:
            # Closing hands the connection back, and the pool rolls back whatever was left open:
            # an explicit rollback first would only cost another trip to the driver's thread.
            await session.close()
        finally:
            self._session = None
        if exc is not None and _is_conflict(exc):
            raise Conflict(
                "Another change to the same object was committed first; reload and try again."
            ) from exc
        if exc is not None and is_unreachable(exc):
            raise CatalogUnavailable(_UNREACHABLE_MESSAGE) from exc

    async def commit(self) -> None:
        try:
            await self.session.commit()
            if self.system.epoch_bumped and self._on_epoch_committed is not None:
                # This process learns of its own catalog changes at once; others poll the epoch.
                self._on_epoch_committed()
        except DBAPIError as exc:
            if is_unreachable(exc):
                raise CatalogUnavailable(_UNREACHABLE_MESSAGE) from exc
            if not _is_conflict(exc):
                raise
            raise Conflict(
                "Another change to the same object was committed first; reload and try again."
            ) from exc


_UNREACHABLE_MESSAGE = "The catalog database cannot be reached right now; try again shortly."


def is_unreachable(exc: BaseException) -> bool:
    """The catalog cannot be reached at all (down, refusing connections, gone mid-query)."""
    if isinstance(exc, ConnectionError | TimeoutError):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        original = exc.orig
        if isinstance(original, ConnectionError | OSError):
            return True
        text = str(original).lower()
        return any(marker in text for marker in _UNREACHABLE_MARKERS)
    return isinstance(exc, OSError)


_UNREACHABLE_MARKERS = ("connection refused", "could not connect", "does not allow connections",
                        "not currently accepting connections", "too many clients",
                        "connection was closed", "terminating connection", "connection is closed",
                        "unable to open database file", "server closed the connection",
                        "the database system is shutting down", "the database system is starting up")
_CONFLICT_MARKERS = ("database is locked", "could not serialize", "deadlock detected")


def _is_conflict(exc: BaseException) -> bool:
    """A lost race with another writer, as opposed to a broken or unreachable database."""
    if isinstance(exc, IntegrityError):
        return True
    if isinstance(exc, OperationalError | DBAPIError):
        text = str(getattr(exc, "orig", exc)).lower()
        return any(marker in text for marker in _CONFLICT_MARKERS)
    return False


class UnitOfWorkFactory:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._epoch_listeners: list[Callable[[], None]] = []

    def on_epoch_committed(self, listener: Callable[[], None]) -> None:
        self._epoch_listeners.append(listener)

    def _epoch_committed(self) -> None:
        for listener in self._epoch_listeners:
            listener()

    def __call__(self) -> UnitOfWork:
        return UnitOfWork(self._sessions, self._epoch_committed)
