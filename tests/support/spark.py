"""The Spark half of the suite: a Spark Thrift server, and a throwaway database on it per session.

Runs when ``SPYNE_TEST_SPARK=1`` (a local server from the pyspark package, see
:mod:`tests.support.spark_server`) or ``SPYNE_TEST_SPARK_URL`` names a server already running
(``hive://user@host:port/default``). In CI ``SPYNE_REQUIRE_SPARK=1``: a skip there is a failure.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

import pytest

SPARK_URL = os.environ.get("SPYNE_TEST_SPARK_URL")
RUN_SPARK = os.environ.get("SPYNE_TEST_SPARK") == "1" or bool(SPARK_URL)
REQUIRE_SPARK = os.environ.get("SPYNE_REQUIRE_SPARK") == "1"

# Every Spark test: on one xdist worker (`--dist loadgroup`), so one server serves them all.
SPARK_MARKS = (pytest.mark.spark, pytest.mark.slow, pytest.mark.xdist_group("spark"))


@contextlib.contextmanager
def one_at_a_time() -> Iterator[None]:
    """Hold the checkout's Spark test lock: one Spark test at a time, whichever worker runs it.

    ``--dist loadgroup`` already keeps them on one worker; this holds when it does not (pytest 9.2
    made xdist drop its groups silently, pytest-dev/pytest-xdist#1386), so two tests never race on
    the shared table or queue behind each other's runaway on the one server."""
    from tests.support.spark_server import locked

    with locked("tests.lock"):
        yield


def need_spark() -> None:
    if not RUN_SPARK:
        if REQUIRE_SPARK:
            pytest.fail("SPYNE_REQUIRE_SPARK=1 but neither SPYNE_TEST_SPARK=1 nor SPYNE_TEST_SPARK_URL is set")
        pytest.skip("Spark half: set SPYNE_TEST_SPARK=1 (a local server from pyspark) to run it")


_session: list[str] = []  # the URL the session's `spark_server` fixture is serving


def server_url() -> Iterator[str]:
    """The server's URL for the session: one named by the environment, the one `make test` started
    (waited for), or one started here and stopped at the end."""
    need_spark()
    if SPARK_URL:
        _session[:] = [SPARK_URL]
        yield SPARK_URL
        return
    from tests.support import spark_server

    running = spark_server.recorded()
    server = spark_server.wait(running or spark_server.start())
    _session[:] = [server.url]
    try:
        yield server.url
    finally:
        _session.clear()
        if running is None:
            spark_server.stop()


def session_server_url() -> str:
    """The URL of the server the session's ``spark_server`` fixture serves (request that first)."""
    if not _session:
        raise RuntimeError("no Spark server in this session: request the spark_server fixture first")
    return _session[0]


def database_url(server: str, database: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(server).set(database=database).render_as_string(hide_password=False)


def fresh_database_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"
