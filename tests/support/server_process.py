"""`spyne serve` as a real process on 127.0.0.1, for tests that kill it or shut it down.

Unlike :mod:`tests.support.live` (uvicorn in a thread of the test process), this is another
process with its own pid, so ``kill -9`` really takes it down mid-request, and SIGTERM goes
through uvicorn's own graceful shutdown.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.harness import DEV_SECRET
from tests.support.live import free_port

ROOT = Path(__file__).resolve().parents[2]


class ServerProcess:
    def __init__(self, workdir: Path, catalog_url: str, warehouse_url: str, **env: str) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), "SPYNE_CATALOG_URL": catalog_url,
                    "SPYNE_WAREHOUSE_URL": warehouse_url, "SPYNE_DEV_SECRET": DEV_SECRET.decode(),
                    "SPYNE_MODE": "INGESTION_READY", **env}
        self.env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / f"server-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, timeout: float = 60.0) -> ServerProcess:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=self.workdir, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited at start-up:\n{self.log()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"the server did not start:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """``kill -9``: no shutdown, no finally, no lifespan."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def terminate(self, timeout: float = 60.0) -> int:
        """SIGTERM (what an orchestrator sends), then wait for the exit; the exit code."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *_: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
