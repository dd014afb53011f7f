"""Liveness of ingestion runs: who lands a run, its heartbeat, and closing runs whose process died.

A run is RUNNING while a process lands it. That process is its ``owner`` (``host:pid:start``,
the start being the process's start time in clock ticks, so a recycled pid is not mistaken for
the old process) and renews the run's ``heartbeat_at`` every third of the lease
(``SPYNE_INGEST_LEASE_S``, 60 s by default) and after every batch, together with the counts so
far. A run is dead when

- its owner is on this host and that process no longer exists (found at once, at start-up), or
- its heartbeat is older than the lease (a run of another host or worker, or one whose host died).

Reconciliation closes a dead run as INTERRUPTED with the counts its committed batches actually
hold: every batch writes a checkpoint row (run or operation id, batch number, counts) in the same
warehouse transaction as its rows, so those counts are exact, whatever the catalog last heard.
It runs when a server starts, every lease period in each server, and before ``ingestionRuns``
answers. Closing is a compare-and-set (status and owner as read), so two workers reconciling
at once close a run once, and a run resumed by another process in between is left alone. A run
wrongly taken for dead — its process was cut off from the catalog for longer than the lease —
becomes RUNNING again at its next heartbeat and finishes normally.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from gateway import metrics
from gateway.errors import GatewayError
from gateway.ingestion_records import Counts, RunRecord, RunStatus
from gateway.services.base import ServiceDeps, aware
from gateway.services.events import ingestion_run_event
from gateway.warehouse.ingest_tables import IngestTables

log = logging.getLogger("spyne.ingestion")

DEFAULT_LEASE_SECONDS = 60.0
# Runs landing in this process, whichever service instance started them (tests run several).
_LIVE: set[str] = set()


def _start_ticks(pid: int) -> str | None:
    """The process's start time (field 22 of /proc/<pid>/stat); None where /proc is not there."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            data = stat.read().decode(errors="replace")
    except FileNotFoundError:
        return "gone" if os.path.isdir("/proc/self") else None
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    fields = data[data.rindex(")") + 2:].split()
    return fields[19] if len(fields) > 19 else None


@dataclass(frozen=True, slots=True)
class ProcessIdentity:
    host: str
    pid: int
    started: str

    @classmethod
    def current(cls) -> ProcessIdentity:
        pid = os.getpid()
        return cls(socket.gethostname(), pid, _start_ticks(pid) or "?")

    @property
    def owner(self) -> str:
        return f"{self.host}:{self.pid}:{self.started}"

    def owner_is_gone(self, owner: str | None) -> bool:
        """Whether ``owner`` names a process of this host that no longer exists (False if unsure)."""
        if not owner:
            return False
        host, _, rest = owner.partition(":")
        pid_text, _, started = rest.partition(":")
        if host != self.host or not pid_text.isdigit():
            return False
        if owner == self.owner:
            return False  # this process: its live runs are in _LIVE
        now = _start_ticks(int(pid_text))
        if now is None or started == "?":
            return False  # cannot tell here: the lease decides
        return now != started


class RunLiveness:
    def __init__(self, deps: ServiceDeps, lease_seconds: float = DEFAULT_LEASE_SECONDS,
                 identity: ProcessIdentity | None = None) -> None:
        self._deps = deps
        self.lease = timedelta(seconds=lease_seconds)
        self.identity = identity or ProcessIdentity.current()
        self.tables = IngestTables(deps.warehouse.engine, deps.warehouse.backend)

    @property
    def owner(self) -> str:
        return self.identity.owner

    # --- the owner's side -----------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def owning(self, run_id: str) -> AsyncIterator[None]:
        """While the block runs, ``run_id`` is this process's: alive, whatever its heartbeat says."""
        _LIVE.add(run_id)
        try:
            yield
        finally:
            _LIVE.discard(run_id)

    @contextlib.asynccontextmanager
    async def beating(self, run_id: str) -> AsyncIterator[None]:
        """While the block runs, the run's heartbeat is renewed every third of the lease."""
        beat = asyncio.create_task(self._beat(run_id))
        try:
            yield
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat

    @contextlib.asynccontextmanager
    async def landing(self, run_id: str) -> AsyncIterator[None]:
        async with self.owning(run_id), self.beating(run_id):
            yield

    async def drain(self, timeout: float) -> bool:
        """Wait (up to ``timeout`` s) until no run of this process is still closing; whether none is."""
        deadline = asyncio.get_running_loop().time() + timeout
        while _LIVE and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        return not _LIVE

    async def _beat(self, run_id: str) -> None:
        period = max(self.lease.total_seconds() / 3, 0.05)
        while True:
            await asyncio.sleep(period)
            try:
                await self.progress(run_id, None)
            except Exception:  # the catalog is away: the next beat tries again
                log.warning("heartbeat of run %s could not be written", run_id, exc_info=True)

    async def progress(self, run_id: str, counts: Counts | None) -> None:
        async with self._deps.uow() as uow:
            await uow.ingestion.progress_run(run_id, counts, self._deps.clock(), self.owner)
            await uow.commit()

    # --- everyone's side ------------------------------------------------------------------

    def is_dead(self, run: RunRecord, now: datetime) -> bool:
        if run.status != RunStatus.RUNNING:
            return False
        if run.owner == self.owner:
            return run.id not in _LIVE
        if self.identity.owner_is_gone(run.owner):
            return True
        last = aware(run.heartbeat_at or run.started_at)
        return now - last > self.lease

    async def reconcile(self, contract_id: str | None = None) -> list[RunRecord]:
        """Close every dead run (of ``contract_id``, or all) as INTERRUPTED; the runs closed."""
        now = self._deps.clock()
        async with self._deps.uow() as uow:
            running = await uow.ingestion.running_runs()
        dead = [r for r in running if self.is_dead(r, now) and (contract_id is None or r.contract_id == contract_id)]
        closed: list[RunRecord] = []
        for run in dead:
            counts = await self._held(run)
            async with self._deps.uow() as uow:
                done = await uow.ingestion.interrupt_run(run, counts, now)
                await uow.commit()
            if not done:
                continue  # renewed or closed by someone else meanwhile
            closed.append(run)
            log.warning("ingestion run %s of %s interrupted (owner %s, last heartbeat %s): %d accepted, "
                        "%d duplicates, %d quarantined", run.id, run.contract_id, run.owner,
                        run.heartbeat_at, counts.accepted, counts.duplicates, counts.quarantined)
            metrics.INGESTION_RUNS.labels(contract_id=run.contract_id, status=RunStatus.INTERRUPTED.value).inc()
            self._deps.events.publish(ingestion_run_event(
                contract_id=run.contract_id, table=run.contract_id, run_id=run.id, accepted=counts.accepted,
                duplicates=counts.duplicates, quarantined=counts.quarantined, at=now,
                status=RunStatus.INTERRUPTED.value, actor=run.actor))
        return closed

    async def _held(self, run: RunRecord) -> Counts:
        """What the run's committed batches hold (their checkpoints), else what the catalog heard."""
        note = ("interrupted: the process landing this run stopped; the counts are those of its "
                "committed batches")
        errors = [*run.errors[:49], note]
        key = run.operation_id or run.id
        try:
            held = await self._deps.warehouse.run(
                lambda: self.tables.checkpoints(key) if self.tables.has_bookkeeping() else {})
        except GatewayError:
            held = {}
        if not held:
            return Counts(run.accepted, run.duplicates, run.quarantined, errors)
        return Counts(sum(c[0] for c in held.values()), sum(c[1] for c in held.values()),
                      sum(c[2] for c in held.values()), errors)

    async def watch(self) -> None:
        """Reconcile every lease period, for as long as the server runs (a lifespan task)."""
        while True:
            try:
                await self.reconcile()
            except Exception:  # never let the watcher die: the next period tries again
                log.warning("reconciling ingestion runs failed", exc_info=True)
            await asyncio.sleep(self.lease.total_seconds())
