"""Structured logs: one JSON object per line, carrying the id of the request being served.

The request id lives in a context variable that :class:`gateway.http.middleware.RequestIdMiddleware`
sets, so every log line written while serving a request (by any module, through any logger)
carries the same id as the audit event it wrote and the GraphQL error it returned.
The composition root calls :func:`configure_logging` once, when a server starts.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("spyne_request_id", default=None)

# Attributes every LogRecord has; anything else was passed through ``extra=`` and is logged.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
_MARK = "_spyne_json"
# Loggers that install their own handlers (uvicorn) are rerouted through ours.
_REROUTED = ("uvicorn", "uvicorn.error", "uvicorn.access")


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "message", "request_id", ...extra, "exc"}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or REQUEST_ID.get()
        if request_id:
            entry["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in entry and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        # default=str: an odd extra value must never make a log line disappear.
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure_logging(level: int | str = logging.INFO, stream: TextIO | None = None) -> logging.Handler:
    """Send the root logger (and uvicorn's) through one JSON handler; safe to call twice."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    # A mark on our own handler, so a second call replaces it instead of doubling every line.
    setattr(handler, _MARK, True)
    # Our lines carry no file or line number: spare every call its walk up the stack
    # (the switch the logging HOWTO's "Optimization" section names).
    logging._srcfile = None  # type: ignore[attr-defined]
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _MARK, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in _REROUTED:
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True
    return handler
