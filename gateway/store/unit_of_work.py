"""One unit of work per service operation: a session, its repositories, an explicit commit.

Repositories never commit; the service that opened the unit of work does, once. Leaving the
block without a commit rolls everything back. Integrity and lock errors from the database
surface as :class:`gateway.errors.Conflict`, since they mean another writer got there first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, sessionmaker

from gateway.errors import CatalogUnavailable, Conflict
from gateway.store.dashboard import DashboardRepository
from gateway.store.drift import DriftRepository
from gateway.store.ingestion import IngestionRepository
from gateway.store.joins import JoinsRepository
from gateway.store.queries import QueriesRepository
from gateway.store.system import AuditRepository, SystemRepository, UsersRepository
from gateway.store.tables import TablesRepository

T = TypeVar("T")


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
        translated = _translated(exc) if exc is not None else None
        if translated is not None:
            raise translated from exc

    async def commit(self) -> None:
        try:
            await self.session.commit()
            if self.system.epoch_bumped and self._on_epoch_committed is not None:
                # This process learns of its own catalog changes at once; others poll the epoch.
                self._on_epoch_committed()
        except DBAPIError as exc:
            translated = _translated(exc)
            if translated is None:
                raise
            raise translated from exc


def _translated(exc: BaseException) -> Conflict | CatalogUnavailable | None:
    """The gateway's error for a lost race or an unreachable catalog; None for anything else."""
    if _is_conflict(exc):
        return Conflict("Another change to the same object was committed first; reload and try again.")
    if is_unreachable(exc):
        return CatalogUnavailable(_UNREACHABLE_MESSAGE)
    return None


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
    def __init__(self, engine: AsyncEngine, sync_engine: Engine | None = None) -> None:
        self.engine = engine
        self._sync_engine = sync_engine
        # Its own threads: catalog work must not queue behind slow warehouse queries.
        self._threads = ThreadPoolExecutor(max_workers=2, thread_name_prefix="spyne-catalog") if sync_engine else None
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._sync_sessions = sessionmaker(sync_engine, expire_on_commit=False) if sync_engine else None
        self._epoch_listeners: list[Callable[[], None]] = []

    async def transaction(self, work: Callable[[Session], T]) -> T:
        """``work(session)`` in one transaction, committed when it returns; its result.

        For the request path's reads and writes (the query log, the epoch, catalog listings),
        written as plain functions of a sync session in ``store/``: with a SQLite catalog the
        whole transaction runs in a catalog thread, one hop (through aiosqlite every cursor,
        execute, fetch and rollback is a hop of its own); otherwise on the async engine
        (``run_sync``). Errors come out as from a unit of work (Conflict, CatalogUnavailable).
        """
        try:
            if self._threads is not None:
                return await asyncio.get_running_loop().run_in_executor(self._threads, self._in_thread, work)
            async with self._sessions() as session, session.begin():
                return await session.run_sync(work)
        except Exception as exc:
            translated = _translated(exc)
            if translated is None:
                raise
            raise translated from exc

    def _in_thread(self, work: Callable[[Session], T]) -> T:
        assert self._sync_sessions is not None
        with self._sync_sessions() as session, session.begin():
            return work(session)

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self._sync_engine is not None:
            self._sync_engine.dispose()

    def on_epoch_committed(self, listener: Callable[[], None]) -> None:
        self._epoch_listeners.append(listener)

    def _epoch_committed(self) -> None:
        for listener in self._epoch_listeners:
            listener()

    def __call__(self) -> UnitOfWork:
        return UnitOfWork(self._sessions, self._epoch_committed)
