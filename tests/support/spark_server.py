"""A local-mode Spark Thrift server from the pyspark package: the Spark half of the suite runs on it.

Started once per test run and shared (its start costs about a minute on two cores)::

    python -m tests.support.spark_server start     # in the background; returns at once
    python -m tests.support.spark_server wait      # until it answers SQL; prints its URL
    python -m tests.support.spark_server stop

``make test`` starts it early when ``SPYNE_TEST_SPARK=1`` (so it comes up while ruff and mypy
run) and stops it afterwards; the ``spark_url`` fixture waits for that server, or starts and stops
one of its own when none is running. The server's state (a Derby metastore, the warehouse
directory, its log, its pid and port) lives under ``.spyne/spark-test/`` of this checkout, so two
checkouts on one machine never share a server. A file lock serialises starts.

The server is configured as a gateway operator would configure one: bound to 127.0.0.1,
``spark.sql.runSQLOnFiles=false`` (no ``parquet.`/path``` reads), jobs interrupted when their
statement is cancelled, two local cores and two shuffle partitions (tiny data).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STATE = Path(os.environ.get("SPYNE_SPARK_STATE", ROOT / ".spyne" / "spark-test"))
START_TIMEOUT_S = float(os.environ.get("SPYNE_SPARK_START_TIMEOUT", "300"))
THRIFT_CLASS = "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"


@dataclass(frozen=True, slots=True)
class Server:
    pid: int
    port: int

    @property
    def url(self) -> str:
        return f"hive://127.0.0.1:{self.port}/default"

    def alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def spark_home() -> Path:
    import pyspark  # the [spark] extra; imported here so the rest of the suite never needs it

    return Path(pyspark.__file__).resolve().parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def locked(name: str = "lock") -> Iterator[None]:
    """Hold the checkout's file lock ``name`` (exclusive across processes): ``lock`` serialises
    starts and stops, ``tests.lock`` the Spark tests (tests.support.spark.one_at_a_time)."""
    STATE.mkdir(parents=True, exist_ok=True)
    with (STATE / name).open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def recorded() -> Server | None:
    """The server this checkout started, if it is still running."""
    try:
        data = json.loads((STATE / "server.json").read_text())
    except (OSError, ValueError):
        return None
    server = Server(int(data["pid"]), int(data["port"]))
    return server if server.alive() else None


def command(port: int) -> list[str]:
    home = spark_home()
    metastore = STATE / "metastore_db"
    return [
        str(home / "bin" / "spark-submit"), "--class", THRIFT_CLASS, "--name", "spyne-test-thriftserver",
        "--master", "local[2]", "--driver-memory", "1g",
        "--conf", "spark.ui.enabled=false",
        "--conf", "spark.sql.shuffle.partitions=2",
        "--conf", "spark.sql.runSQLOnFiles=false",
        "--conf", "spark.sql.thriftServer.interruptOnCancel=true",
        "--conf", f"spark.sql.warehouse.dir={STATE / 'warehouse'}",
        "--conf", f"spark.driver.extraJavaOptions=-Dderby.system.home={STATE}",
        "--conf", "spark.sql.catalogImplementation=hive",
        "--hiveconf", f"javax.jdo.option.ConnectionURL=jdbc:derby:;databaseName={metastore};create=true",
        "--hiveconf", "hive.server2.thrift.bind.host=127.0.0.1",
        "--hiveconf", f"hive.server2.thrift.port={port}",
        "spark-internal",
    ]


def start() -> Server:
    """Start a server in the background (or return the one already running); does not wait."""
    with locked():
        running = recorded()
        if running is not None:
            return running
        if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
            raise RuntimeError("Spark needs a Java runtime: apt-get install openjdk-17-jre-headless")
        port = _free_port()
        env = {**os.environ, "SPARK_HOME": str(spark_home()), "SPARK_LOCAL_IP": "127.0.0.1",
               "SPARK_LOG_DIR": str(STATE), "SPARK_PID_DIR": str(STATE)}
        log = (STATE / "server.log").open("ab")
        # Its own session: stop() ends the whole group (spark-submit execs the JVM).
        process = subprocess.Popen(command(port), cwd=STATE, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        server = Server(process.pid, port)
        (STATE / "server.json").write_text(json.dumps({"pid": server.pid, "port": server.port}))
        return server


def answers(server: Server) -> bool:
    from pyhive import hive

    try:
        conn = hive.connect(host="127.0.0.1", port=server.port, username="spyne")
    except Exception:
        return False
    try:
        cursor = conn.cursor()
        cursor.execute("SELECT 1")
        return cursor.fetchall() == [(1,)]
    except Exception:
        return False
    finally:
        conn.close()


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait(server: Server, timeout_s: float = START_TIMEOUT_S) -> Server:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not server.alive():
            raise RuntimeError(f"the Spark Thrift server exited during start; see {STATE / 'server.log'}:\n"
                               + _log_tail())
        if _port_open(server.port) and answers(server):
            return server
        time.sleep(0.5)
    raise RuntimeError(f"the Spark Thrift server did not answer within {timeout_s:.0f} s; see "
                       f"{STATE / 'server.log'}:\n" + _log_tail())


def stop() -> bool:
    """Stop the recorded server (its whole process group); True when one was running."""
    with locked():
        server = recorded()
        (STATE / "server.json").unlink(missing_ok=True)
        if server is None:
            return False
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        while server.alive() and time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(server.pid, os.WNOHANG)
            time.sleep(0.2)
        if server.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)
        return True


def _log_tail(lines: int = 30) -> str:
    try:
        return "\n".join((STATE / "server.log").read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def main(argv: list[str]) -> int:
    action = argv[0] if argv else "wait"
    if action == "start":
        print(start().url)
    elif action == "wait":
        print(wait(recorded() or start()).url)
    elif action == "stop":
        print("stopped" if stop() else "no Spark server was running")
    elif action == "url":
        running = recorded()
        if running is None:
            return 1
        print(running.url)
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
