"""Typed errors of the gateway, each carrying one ``extensions.code`` of API.md.

    GatewayError                      (root; never raised itself)
    ├── Unauthenticated               UNAUTHENTICATED
    ├── Forbidden                     FORBIDDEN
    ├── ModeDisabled                  MODE_DISABLED
    ├── TableNotFound                 TABLE_NOT_FOUND
    ├── TableNotQueryable             TABLE_NOT_QUERYABLE
    ├── PreviewNotFound               PREVIEW_NOT_FOUND
    ├── StalePreview                  STALE_PREVIEW
    ├── GuardrailBlocked              GUARDRAIL_BLOCKED
    ├── InvalidTransition             INVALID_TRANSITION
    ├── Conflict                      CONFLICT
    ├── InvalidContract               INVALID_CONTRACT
    ├── DriftBreaking                 DRIFT_BREAKING
    ├── InvalidInput                  INVALID_INPUT
    ├── WarehouseError                WAREHOUSE_ERROR
    ├── WarehouseUnsupported          WAREHOUSE_UNSUPPORTED (the configured warehouse lacks the
    │                                 capability asked for; extensions name both)
    ├── Timeout                       TIMEOUT
    └── CatalogUnavailable            CATALOG_UNAVAILABLE (beyond API.md's list: the catalog
                                      database cannot be reached; retry later)

Planner errors (``planner.errors``) map onto INVALID_SQL, NOT_A_QUERY, FORBIDDEN_FUNCTION,
TABLE_NOT_FOUND, TABLE_NOT_QUERYABLE, COLUMN_NOT_FOUND and AMBIGUOUS_COLUMN through :func:`code_of`;
their extensions carry where they point (line, column, endLine, endColumn) and any suggestions.

Messages are for the caller: they say what to do. They never carry a stack trace, a
secret, or the physical name of a version the caller may not see.
"""

from __future__ import annotations

from typing import Any


class GatewayError(Exception):
    code = "INTERNAL"

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions: dict[str, Any] = {k: v for k, v in extensions.items() if v is not None}


class Unauthenticated(GatewayError):
    code = "UNAUTHENTICATED"


class Forbidden(GatewayError):
    code = "FORBIDDEN"


class ModeDisabled(GatewayError):
    code = "MODE_DISABLED"


class TableNotFound(GatewayError):
    code = "TABLE_NOT_FOUND"


class TableNotQueryable(GatewayError):
    code = "TABLE_NOT_QUERYABLE"


class PreviewNotFound(GatewayError):
    code = "PREVIEW_NOT_FOUND"


class StalePreview(GatewayError):
    code = "STALE_PREVIEW"


class GuardrailBlocked(GatewayError):
    code = "GUARDRAIL_BLOCKED"


class InvalidTransition(GatewayError):
    code = "INVALID_TRANSITION"


class Conflict(GatewayError):
    code = "CONFLICT"


class InvalidContract(GatewayError):
    code = "INVALID_CONTRACT"


class DriftBreaking(GatewayError):
    code = "DRIFT_BREAKING"


class InvalidInput(GatewayError):
    code = "INVALID_INPUT"


class WarehouseError(GatewayError):
    code = "WAREHOUSE_ERROR"


class WarehouseUnsupported(GatewayError):
    code = "WAREHOUSE_UNSUPPORTED"


class Timeout(GatewayError):
    code = "TIMEOUT"


def code_of(error: BaseException) -> str | None:
    """The API.md code of a known error, or None for anything unexpected (to be masked)."""
    if isinstance(error, GatewayError):
        return error.code
    code = getattr(error, "code", None)
    from planner.errors import PlannerError  # planner is a lower floor: importing it is allowed

    if isinstance(error, PlannerError) and isinstance(code, str):
        return code
    return None


def extensions_of(error: BaseException) -> dict[str, Any]:
    extensions = getattr(error, "extensions", None)
    return dict(extensions) if isinstance(extensions, dict) else {}


class CatalogUnavailable(GatewayError):
    code = "CATALOG_UNAVAILABLE"
