"""Concurrent callers sharing one unit of work: group commit for writes, one read for many readers.

On a busy worker dozens of requests each want to append one row (a stored preview, an execution
record) or to read one value that must be current (the catalog epoch). One transaction apiece
means one commit apiece and, on SQLite, writers queueing on the file lock. Here they share:

- :class:`GroupCommit` — every item submitted while a batch commits goes into the next batch,
  written in one transaction. A caller's ``await`` returns only after its own item committed, so
  nothing is acknowledged before it is stored. A batch that fails is retried item by item, so a
  bad item fails its own caller only; an unreachable catalog fails the whole batch at once.
- :class:`SharedRead` — a caller joins the next read to *start*, never one already under way,
  so whatever it gets was read after it asked (as fresh as a read of its own).

With one caller at a time both cost what a plain unit of work costs: nothing waits to fill a
batch. Neither keeps a task alive between bursts, so they work under any event loop in turn.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from sqlalchemy.orm import Session

from gateway.errors import CatalogUnavailable
from gateway.store.unit_of_work import UnitOfWorkFactory

Item = TypeVar("Item")
Result = TypeVar("Result")

log = logging.getLogger("spyne.store")


class GroupCommit(Generic[Item, Result]):
    """``write(session, items)`` stores a batch and returns one result per item, in order;
    it runs in one :meth:`UnitOfWorkFactory.transaction`."""

    def __init__(self, uow: UnitOfWorkFactory, write: Callable[[Session, Sequence[Item]], Sequence[Result]],
                 *, max_batch: int = 256) -> None:
        self._uow = uow
        self._write = write
        self._max_batch = max_batch
        self._queue: list[tuple[Item, asyncio.Future[Result]]] = []
        self._drainer: asyncio.Task[None] | None = None

    async def submit(self, item: Item) -> Result:
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if self._drainer is None:
            self._drainer = asyncio.create_task(self._drain())
        # A caller that goes away (a client disconnect) does not take its item back: the
        # batch still writes it, since an execution must be recorded whoever waits for it.
        return await future

    async def _drain(self) -> None:
        batch: list[tuple[Item, asyncio.Future[Result]]] = []
        try:
            while self._queue:
                batch, self._queue = self._queue[:self._max_batch], self._queue[self._max_batch:]
                await self._commit(batch)
                batch = []
        except BaseException as exc:  # cancelled with the loop: nobody may wait forever
            for _, future in batch + self._queue:
                _fail(future, exc)
            self._queue = []
            raise
        finally:
            self._drainer = None

    async def _commit(self, batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        items = [item for item, _ in batch]
        try:
            results = await self._uow.transaction(lambda session: self._write(session, items))
        except Exception as exc:
            if len(batch) == 1 or isinstance(exc, CatalogUnavailable):
                for _, future in batch:
                    _fail(future, exc)
                return
            log.warning("a batch of %d catalog writes failed (%s); writing them one by one", len(batch),
                        type(exc).__name__)
            for one in batch:
                await self._commit([one])
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)


class SharedRead(Generic[Result]):
    """``read()`` once for all callers who asked since the previous read started."""

    def __init__(self, read: Callable[[], Awaitable[Result]]) -> None:
        self._read = read
        self._next: asyncio.Future[Result] | None = None
        self._reader: asyncio.Task[None] | None = None

    async def __call__(self) -> Result:
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
        future = self._next
        if self._reader is None:
            self._reader = asyncio.create_task(self._run())
        # Shielded: one caller going away must not cancel the read the others wait for.
        return await asyncio.shield(future)

    async def _run(self) -> None:
        future: asyncio.Future[Result] | None = None
        try:
            while self._next is not None:
                # Swapped out before reading: whoever asks from now on waits for the next read.
                future, self._next = self._next, None
                try:
                    value = await self._read()
                except Exception as exc:
                    _fail(future, exc)
                else:
                    if not future.done():
                        future.set_result(value)
        except BaseException as exc:  # cancelled with the loop: nobody may wait forever
            for pending in (future, self._next):
                if pending is not None:
                    _fail(pending, exc)
            self._next = None
            raise
        finally:
            self._reader = None


def _fail(future: asyncio.Future[Result], exc: BaseException) -> None:
    if future.done():
        return
    if isinstance(exc, asyncio.CancelledError):
        future.cancel()
    else:
        future.set_exception(exc)
