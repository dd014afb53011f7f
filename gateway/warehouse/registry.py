"""Which adapter serves which ``SPYNE_WAREHOUSE_URL``: one table, read by :func:`open_warehouse`.

A URL whose scheme is in no row, or whose driver is not installed, is refused with
:class:`WarehouseConfigError` naming what to do (``pip install 'spyne-gateway[duckdb]'``):
``spyne serve`` does not start on a warehouse it cannot reach the way it promises.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from gateway.warehouse.contract import Warehouse


class WarehouseConfigError(Exception):
    """The configured warehouse URL cannot be served; the message says how to fix it."""


@dataclass(frozen=True, slots=True)
class AdapterEntry:
    backend: str  # SQLAlchemy backend name (the URL scheme before any ``+driver``)
    module: str  # gateway.warehouse.adapters.<module>
    cls: str
    drivers: tuple[str, ...]  # importable modules the adapter needs
    extra: str | None  # the pip extra that installs them; None when they come with the gateway
    url_form: str


ADAPTERS: tuple[AdapterEntry, ...] = (
    AdapterEntry("sqlite", "sqlite", "SqliteWarehouse", ("sqlite3",), None, "sqlite:///path/to/warehouse.db"),
    AdapterEntry("postgresql", "postgres", "PostgresWarehouse", ("psycopg",), None,
                 "postgresql://user:password@host:5432/database"),
)


def _entry(backend: str) -> AdapterEntry | None:
    return next((e for e in ADAPTERS if e.backend == backend), None)


def adapter_for(url: str) -> AdapterEntry:
    """The table's row for ``url``, after checking its drivers are importable."""
    try:
        backend = make_url(url).get_backend_name()
    except ArgumentError as exc:
        raise WarehouseConfigError(f"SPYNE_WAREHOUSE_URL is not a database URL: {exc}") from exc
    entry = _entry(backend)
    if entry is None:
        known = ", ".join(e.url_form.split(":", 1)[0] for e in ADAPTERS)
        raise WarehouseConfigError(
            f"No warehouse adapter for URL scheme {backend!r}; the gateway serves {known}.")
    missing = [d for d in entry.drivers if not _importable(d)]
    if missing:
        target = f"spyne-gateway[{entry.extra}]" if entry.extra else "spyne-gateway"
        raise WarehouseConfigError(
            f"The {entry.backend} warehouse needs {', '.join(missing)}, which is not installed: "
            f"pip install '{target}'")
    return entry


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package missing, or an import blocked
        return False


def open_warehouse(url: str, *, statement_timeout_ms: int = 30_000, query_url: str | None = None,
                   max_result_bytes: int | None = None) -> Warehouse:
    entry = adapter_for(url)
    module = importlib.import_module(f"gateway.warehouse.adapters.{entry.module}")
    cls = getattr(module, entry.cls)
    options: dict[str, object] = {"statement_timeout_ms": statement_timeout_ms, "query_url": query_url}
    if max_result_bytes is not None:
        options["max_result_bytes"] = max_result_bytes
    warehouse: Warehouse = cls(url, **options)
    return warehouse
