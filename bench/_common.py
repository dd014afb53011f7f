"""Shared pieces of bench/load.py and bench/overhead.py: a demo workspace prepared with the real
CLI (`spyne migrate`, `spyne demo load`), `spyne serve` as a subprocess, resident memory from
/proc, a bounded async load generator, and percentiles.

Nothing here is imported by the gateway; the benchmarks talk to it over HTTP on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
SPYNE = str(ROOT / ".venv" / "bin" / "spyne") if (ROOT / ".venv" / "bin" / "spyne").exists() else "spyne"
DEV_SECRET = "bench-secret-0123456789abcdef-0123456789abcdef"
PG_BASE = os.environ.get("SPYNE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def token(role: str = "ANALYST", email: str = "bench@example.com") -> str:
    from gateway.auth import mint_dev_token

    return mint_dev_token(DEV_SECRET.encode(), email, role, 8 * 3600)


# --- workspace -------------------------------------------------------------------------------


@dataclass
class Workspace:
    """A demo catalog (SQLite file or a throwaway PostgreSQL database) over a SQLite demo warehouse."""

    workdir: Path
    env: dict[str, str]
    catalog: str  # "sqlite" or "postgres"
    pg_database: str | None = None

    @property
    def warehouse_path(self) -> Path:
        return self.workdir / "warehouse.db"

    def cleanup(self) -> None:
        if self.pg_database:
            _pg_admin(f'DROP DATABASE IF EXISTS "{self.pg_database}" WITH (FORCE)')
        shutil.rmtree(self.workdir, ignore_errors=True)


def _pg_admin(statement: str) -> None:
    import psycopg

    dsn = PG_BASE.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(statement)  # type: ignore[arg-type]


def prepare_workspace(catalog: str, scale: float, *, template: Path | None = None) -> Workspace:
    """`spyne migrate` + `spyne demo load --scale` into a fresh workdir (the warehouse file is
    copied from ``template`` when given, so several workspaces share one generated warehouse)."""
    workdir = Path(tempfile.mkdtemp(prefix=f"spyne-bench-{catalog}-"))
    pg_database = None
    if catalog == "postgres":
        pg_database = f"spyne_bench_{uuid.uuid4().hex[:10]}"
        _pg_admin(f'CREATE DATABASE "{pg_database}"')
        base, _, _ = PG_BASE.rpartition("/")
        catalog_url = f"{base}/{pg_database}"
    else:
        catalog_url = f"sqlite:///{workdir}/catalog.db"
    env = {**os.environ, "SPYNE_CATALOG_URL": catalog_url, "SPYNE_WAREHOUSE_URL": f"sqlite:///{workdir}/warehouse.db",
           "SPYNE_DEV_SECRET": DEV_SECRET, "SPYNE_MODE": "READ_ONLY", "SPYNE_ARCHIVE_DIR": str(workdir / "archive")}
    ws = Workspace(workdir, env, catalog, pg_database)
    try:
        if template is not None:
            shutil.copyfile(template, ws.warehouse_path)
        quiet = {"cwd": workdir, "env": env, "check": True, "stdout": subprocess.DEVNULL}
        subprocess.run([SPYNE, "migrate"], **quiet)  # type: ignore[call-overload]
        subprocess.run([SPYNE, "demo", "load", "--scale", str(scale)], **quiet)  # type: ignore[call-overload]
    except BaseException:
        ws.cleanup()
        raise
    return ws


# --- the server ------------------------------------------------------------------------------


class SpyneServer:
    """`spyne serve --port P --workers N` in its own process group; stopped by its own pid."""

    def __init__(self, ws: Workspace, workers: int) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.log = open(ws.workdir / f"serve-{self.port}.log", "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen([SPYNE, "serve", "--port", str(self.port), "--workers", str(workers)],
                                        cwd=ws.workdir, env=ws.env, stdout=self.log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        self._wait_until_up()

    def _wait_until_up(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"spyne serve exited with {self.process.returncode}; see {self.log.name}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200 and (
                        self.workers == 1 or len(self.pids()) > self.workers):
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"spyne serve did not come up; see {self.log.name}")

    def pids(self) -> list[int]:
        """The server process and every process below it (uvicorn's workers)."""
        found = [self.process.pid]
        frontier = [self.process.pid]
        while frontier:
            parent = frontier.pop()
            for child in _children(parent):
                found.append(child)
                frontier.append(child)
        return found

    def rss_mb(self) -> float:
        return sum(rss_kb(pid) for pid in self.pids()) / 1024

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # uvicorn shuts its workers down gracefully
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()


def _children(pid: int) -> list[int]:
    out: list[int] = []
    task_dir = Path(f"/proc/{pid}/task")
    for task in task_dir.glob("*") if task_dir.exists() else []:
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return out


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


# --- load ------------------------------------------------------------------------------------


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=dict)  # kind -> seconds
    errors: dict[str, int] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)
    elapsed: float = 0.0

    def ok(self, kind: str, seconds: float) -> None:
        self.latencies.setdefault(kind, []).append(seconds)

    def fail(self, kind: str, why: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1
        if len(self.error_samples) < 5:
            self.error_samples.append(f"{kind}: {why[:200]}")

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values()) + sum(self.errors.values())

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


Op = Callable[[httpx.AsyncClient, Tally], Awaitable[None]]


async def bounded_load(url: str, pick: Callable[[int], Op], *, concurrency: int, duration: float,
                       max_requests: int) -> Tally:
    """``concurrency`` clients, each running ``pick(i)`` in a loop until ``duration`` seconds have
    passed or ``max_requests`` operations were started, whichever comes first."""
    tally = Tally()
    started = 0
    deadline = time.perf_counter() + duration
    # A client (with one connection) per worker: one shared pool of N connections costs the
    # client O(N) per request, and at N = 64 the load generator, not the server, was saturated.
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients = [httpx.AsyncClient(base_url=url, limits=limits, timeout=60) for _ in range(concurrency)]

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal started
        while time.perf_counter() < deadline and started < max_requests:
            n = started
            started += 1
            await pick(n)(client, tally)

    try:
        begin = time.perf_counter()
        await asyncio.gather(*(worker(c) for c in clients))
        tally.elapsed = time.perf_counter() - begin
    finally:
        for client in clients:
            await client.aclose()
    return tally


async def graphql(client: httpx.AsyncClient, bearer: str, query: str, variables: dict[str, Any] | None = None
                  ) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}},
                                 headers={"Authorization": f"Bearer {bearer}"})
    if response.status_code != 200:
        raise RuntimeError(f"HTTP {response.status_code}: {response.text[:200]}")
    body: dict[str, Any] = response.json()
    if body.get("errors"):
        raise RuntimeError(str(body["errors"])[:300])
    return body["data"]  # type: ignore[no-any-return]


# --- figures ---------------------------------------------------------------------------------


async def amedian_ms(fn: Callable[[], Awaitable[object]], runs: int, warmup: int | None = None) -> float:
    """The median of ``runs`` awaited calls of ``fn``, in ms, after a warm-up (a tenth of the runs,
    at least three, unless given)."""
    for _ in range(max(3, runs // 10) if warmup is None else warmup):
        await fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await fn()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return _median(times)


def _median(values: list[float]) -> float:
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.2f}"


def python_of_venv() -> str:
    candidate = ROOT / ".venv" / "bin" / "python"
    return str(candidate) if candidate.exists() else sys.executable
