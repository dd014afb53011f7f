"""The one place where a warehouse driver's exception becomes ``WAREHOUSE_ERROR`` or ``TIMEOUT``.

Every blocking warehouse call goes through ``Warehouse.run`` (``gateway.warehouse.contract``),
which hands whatever a driver raised to :meth:`WarehouseErrors.translate`; an adapter that
catches its driver's errors itself (``SqlWarehouse.translate``) hands them to
:meth:`WarehouseErrors.coded`. Every adapter gets the rule by being a ``Warehouse``. What the client reads says
what kind of failure it was and never where the warehouse is: no host, port, user, database
name or file path (``connection to server at "10.0.0.7", port 5439 failed`` becomes "the
warehouse cannot be reached right now"). The operator gets the driver's own words in the log —
at WARNING when the warehouse is unreachable, at INFO for a statement it refused (an ordinary
failure, not a bug) — with the request id the client saw.

A driver error is recognised without a list of drivers: any exception whose class descends from
a PEP 249 driver's ``Error`` (its module has ``paramstyle``: sqlite3, psycopg, pymysql, duckdb,
…) or from SQLAlchemy's ``DBAPIError`` wrapper. An adapter whose client library is not PEP 249
(a Thrift transport, say) adds its classes with :func:`register_driver_errors`.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from urllib.parse import unquote

from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, DisconnectionError

from gateway.errors import GatewayError, Timeout, WarehouseError
from gateway.logging import REQUEST_ID

log = logging.getLogger("spyne.warehouse")

UNREACHABLE_MESSAGE = "The warehouse cannot be reached right now; try again shortly."
TIMEOUT_MESSAGE = "The statement ran past the statement timeout; add a filter or a limit."
REFUSED_PREFIX = "The warehouse refused the statement: "

_EXTRA_DRIVER_ERRORS: list[type[BaseException]] = []

# Lower-case fragments of driver messages, by what they mean (SQLite, PostgreSQL, MySQL/MariaDB,
# DuckDB, Spark/Hive wording).
_TIMEOUT_MARKERS = ("interrupted", "statement timeout", "canceling statement", "max_execution_time",
                    "query execution was interrupted", "maximum statement execution time")
_UNREACHABLE_MARKERS = (
    "unable to open database file", "connection refused", "could not connect", "connection to server",
    "does not allow connections", "not currently accepting connections", "too many clients",
    "connection was closed", "terminating connection", "connection is closed", "server closed the connection",
    "the database system is shutting down", "the database system is starting up", "can't connect",
    "lost connection", "server has gone away", "password authentication failed", "authentication failed",
    "access denied for user", "no pg_hba.conf entry",
    "name or service not known", "temporary failure in name resolution", "timeout expired",
    "could not translate host name", "no route to host", "network is unreachable", "disk i/o error",
    "database is locked", "unknown database", "could not open file", "cannot open file", "io error",
)
# A missing *database* (not a missing table) is the connection's failure.
_MISSING_DATABASE = re.compile(r'database "[^"]*" does not exist|unknown database', re.IGNORECASE)

# Shapes of infrastructure detail that may hide in a driver's message whatever the URL says.
_SCRUB = (
    (re.compile(r'(?:server|host) (?:at )?"[^"]*"(?: \([^)]*\))?', re.IGNORECASE), "server"),
    (re.compile(r"\bport \d+", re.IGNORECASE), "port"),
    (re.compile(r'\b(?:user|role|database|db)\s*[=:]?\s*"[^"]*"', re.IGNORECASE), "…"),
    (re.compile(r"'[^'@\s]+'@'[^']*'"), "…"),  # MySQL's 'user'@'host'
    (re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b"), "…"),  # an IPv4 address
    (re.compile(r"\[[0-9a-f:.]+\](?::\d+)?|\b[0-9a-f]*::[0-9a-f:.]*", re.IGNORECASE), "…"),  # IPv6
    (re.compile(r"(?:[A-Za-z]:)?(?:[\\/][\w.@~+-]+){2,}[\\/]?"), "…"),  # a file path
    (re.compile(r"\b[\w.+-]+://\S+"), "…"),  # a URL
)


def register_driver_errors(*classes: type[BaseException]) -> None:
    """Make ``classes`` (and their subclasses) count as warehouse driver errors."""
    _EXTRA_DRIVER_ERRORS.extend(c for c in classes if c not in _EXTRA_DRIVER_ERRORS)


def is_driver_error(exc: BaseException) -> bool:
    if isinstance(exc, DBAPIError | DisconnectionError):
        return True
    if _EXTRA_DRIVER_ERRORS and isinstance(exc, tuple(_EXTRA_DRIVER_ERRORS)):
        return True
    for cls in type(exc).__mro__:
        if cls.__name__ in ("Error", "DatabaseError"):
            module = sys.modules.get(cls.__module__.partition(".")[0])
            if module is not None and hasattr(module, "paramstyle"):
                return True
    return False


def _driver_text(exc: BaseException) -> str:
    original = getattr(exc, "orig", None) if isinstance(exc, DBAPIError) else None
    return str(original if original is not None else exc)


def kind_of(text: str) -> str:
    """``timeout``, ``unreachable`` or ``refused`` for a driver's message."""
    lowered = text.lower()
    if any(marker in lowered for marker in _TIMEOUT_MARKERS):
        return "timeout"
    if _MISSING_DATABASE.search(text) or any(marker in lowered for marker in _UNREACHABLE_MARKERS):
        return "unreachable"
    return "refused"


class WarehouseErrors:
    """Translates a driver's exception for one configured warehouse (whose URL it must not leak)."""

    def __init__(self, *urls: URL | str | None) -> None:
        found = {secret for url in urls for secret in _url_secrets(url)}
        self._secrets = tuple(sorted(found, key=len, reverse=True))

    def scrub(self, text: str) -> str:
        """``text`` without this warehouse's host, port, user, password, database or file path."""
        for pattern, replacement in _SCRUB:
            text = pattern.sub(replacement, text)
        for secret in self._secrets:
            text = re.sub(rf"(?<!\w){re.escape(secret)}(?!\w)", "…", text, flags=re.IGNORECASE)
        return text

    def translate(self, exc: BaseException) -> GatewayError | None:
        """The client-safe error for a driver's exception; None when ``exc`` is not one."""
        if isinstance(exc, GatewayError) or not is_driver_error(exc):
            return None
        return self.coded(exc)

    def coded(self, exc: BaseException, *, timed_out: bool = False,
              timeout_markers: tuple[str, ...] = ()) -> GatewayError:
        """The client-safe error for ``exc``, which the caller knows came from the driver
        (``timed_out``: the gateway's watchdog interrupted it; ``timeout_markers``: an adapter's
        own words for its engine's time limit)."""
        detail = _driver_text(exc)
        kind = "unreachable" if isinstance(exc, DisconnectionError) else kind_of(detail)
        if getattr(exc, "connection_invalidated", False):
            kind = "unreachable"
        if timed_out or any(marker in detail.lower() for marker in timeout_markers):
            kind = "timeout"
        level = logging.WARNING if kind == "unreachable" else logging.INFO
        # The driver's words stay in the log, for the operator; the client gets the kind.
        log.log(level, "warehouse %s: %s", kind, detail.strip().replace("\n", " | ")[:2000],
                extra={"warehouse_error": type(exc).__name__, "kind": kind, "request_id": REQUEST_ID.get()})
        if kind == "timeout":
            return Timeout(TIMEOUT_MESSAGE)
        if kind == "unreachable":
            return WarehouseError(UNREACHABLE_MESSAGE)
        first = detail.strip().splitlines()[0] if detail.strip() else type(exc).__name__
        return WarehouseError(REFUSED_PREFIX + self.scrub(first)[:300])


def _url_secrets(url: URL | str | None) -> Iterable[str]:
    if url is None:
        return ()
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except Exception:  # an unparsable URL leaves the generic patterns to do the work
        return ()
    found: set[str] = set()
    for value in (parsed.host, parsed.username, parsed.password, parsed.database):
        if value and len(str(value)) >= 3:
            found.add(unquote(str(value)))
    if parsed.port:
        found.add(str(parsed.port))
    database = parsed.database or ""
    if "/" in database or "\\" in database:  # a file: its directory and its name too
        found.update(p for p in re.split(r"[\\/]", database) if len(p) >= 3)
    return found
