"""The statement-timeout watchdog: interrupts a connection whose deadline has passed.

A check between rows (SQLite's progress handler, a loop over fetches) cannot stop work that sits
inside one call — one ``printf`` building 200 MB, one hash join in DuckDB, a server-side sort.
So every read-only execution arms a guard here with its deadline and the adapter's way to
interrupt that connection (``sqlite3.Connection.interrupt``, DuckDB's ``interrupt``, a
PostgreSQL cancel request, MySQL's ``KILL QUERY``), and one daemon thread for the whole process
fires the due ones. The adapter then sees the driver's "interrupted" error and, because the
guard says it fired, reports :class:`gateway.errors.Timeout`.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

log = logging.getLogger("spyne.warehouse")


class Guard:
    """One armed deadline. ``fired`` turns true once the interrupt was sent."""

    __slots__ = ("deadline", "done", "fired", "interrupt", "lock")

    def __init__(self, deadline: float, interrupt: Callable[[], None]) -> None:
        self.deadline = deadline
        self.interrupt = interrupt
        self.fired = False
        self.done = False
        # Held while the interrupt is sent and while the block leaves: an interrupt is never
        # sent once the block has left, so the connection's next user (it goes back to a pool)
        # cannot be interrupted by a deadline that was not theirs.
        self.lock = threading.Lock()

    def fire(self) -> None:
        with self.lock:
            if self.done:
                return
            self.fired = True
            try:
                self.interrupt()
            except Exception:  # a connection already gone needs no interrupting
                log.info("the watchdog's interrupt failed", exc_info=True)


class Watchdog:
    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Guard]] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    @contextmanager
    def guard(self, deadline: float, interrupt: Callable[[], None]) -> Iterator[Guard]:
        """Interrupt with ``interrupt()`` if the block is still running at ``deadline``
        (a :func:`time.monotonic` instant)."""
        armed = Guard(deadline, interrupt)
        with self._wake:
            heapq.heappush(self._heap, (deadline, next(self._order), armed))
            self._start()
            self._wake.notify()
        try:
            yield armed
        finally:
            with armed.lock:
                armed.done = True

    def _start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._loop, name="spyne-watchdog", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while True:
            with self._wake:
                while self._heap and self._heap[0][2].done:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._wake.wait()
                    continue
                wait = self._heap[0][0] - time.monotonic()
                if wait > 0:
                    self._wake.wait(wait)
                    continue
                _, _, due = heapq.heappop(self._heap)
            due.fire()  # outside the queue's lock: a slow cancel delays no one else's guard


WATCHDOG = Watchdog()
