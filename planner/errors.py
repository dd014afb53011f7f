"""Errors of the planner; each carries the ``extensions.code`` of API.md it maps to.

    PlannerError                 (root)
    ├── InvalidSQL               INVALID_SQL (line, column)
    ├── NotAQuery                NOT_A_QUERY
    ├── ForbiddenFunction        FORBIDDEN_FUNCTION
    ├── TableNotFound            TABLE_NOT_FOUND
    ├── TableNotQueryable        TABLE_NOT_QUERYABLE
    ├── WarehouseUnsupported     WAREHOUSE_UNSUPPORTED (warehouse, feature): a function or construct
    │                            the configured warehouse does not run
    ├── WarehouseLimit           WAREHOUSE_LIMIT (warehouse, limit): past a limit of the warehouse's
    │                            parser (nesting depth, identifier length, statement size)
    ├── FunctionLimit            FUNCTION_LIMIT (function, limit): a width or count argument past the
    │                            bound of what one function call may build (PlanOptions.function_bounds)
    └── InvalidCorrection        INVALID_INPUT
"""

from __future__ import annotations

from typing import Any


class PlannerError(Exception):
    code = "INVALID_SQL"

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions: dict[str, Any] = {k: v for k, v in extensions.items() if v is not None}


class InvalidSQL(PlannerError):
    code = "INVALID_SQL"

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message, line=line, column=column)
        self.line = line
        self.column = column


class NotAQuery(PlannerError):
    code = "NOT_A_QUERY"


class ForbiddenFunction(PlannerError):
    code = "FORBIDDEN_FUNCTION"


class TableNotFound(PlannerError):
    code = "TABLE_NOT_FOUND"


class TableNotQueryable(PlannerError):
    code = "TABLE_NOT_QUERYABLE"


class WarehouseUnsupported(PlannerError):
    code = "WAREHOUSE_UNSUPPORTED"

    def __init__(self, message: str, warehouse: str, feature: str) -> None:
        super().__init__(message, warehouse=warehouse, feature=feature)


class WarehouseLimit(PlannerError):
    code = "WAREHOUSE_LIMIT"

    def __init__(self, message: str, warehouse: str, limit: str) -> None:
        super().__init__(message, warehouse=warehouse, limit=limit)


class FunctionLimit(PlannerError):
    code = "FUNCTION_LIMIT"

    def __init__(self, message: str, function: str, limit: int) -> None:
        super().__init__(message, function=function, limit=limit)


class InvalidCorrection(PlannerError):
    code = "INVALID_INPUT"
