"""Errors of the planner; each carries the ``extensions.code`` of API.md it maps to.

    PlannerError                 (root)
    ├── InvalidSQL               INVALID_SQL (line, column)
    ├── NotAQuery                NOT_A_QUERY
    ├── ForbiddenFunction        FORBIDDEN_FUNCTION
    ├── TableNotFound            TABLE_NOT_FOUND
    ├── TableNotQueryable        TABLE_NOT_QUERYABLE
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


class InvalidCorrection(PlannerError):
    code = "INVALID_INPUT"
