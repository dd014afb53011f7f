"""Errors of the planner; each carries the ``extensions.code`` of API.md it maps to.

    PlannerError                 (root)
    ├── InvalidSQL               INVALID_SQL (line, column)
    ├── NotAQuery                NOT_A_QUERY
    ├── ForbiddenFunction        FORBIDDEN_FUNCTION
    ├── TableNotFound            TABLE_NOT_FOUND
    ├── TableNotQueryable        TABLE_NOT_QUERYABLE
    ├── ColumnNotFound           COLUMN_NOT_FOUND
    ├── AmbiguousColumn          AMBIGUOUS_COLUMN
    ├── WarehouseUnsupported     WAREHOUSE_UNSUPPORTED (warehouse, feature): a function or construct
    │                            the configured warehouse does not run
    ├── WarehouseLimit           WAREHOUSE_LIMIT (warehouse, limit): past a limit of the warehouse's
    │                            parser (nesting depth, identifier length, statement size)
    ├── FunctionLimit            FUNCTION_LIMIT (function, limit): a width or count argument past the
    │                            bound of what one function call may build (PlanOptions.function_bounds)
    └── InvalidCorrection        INVALID_INPUT

An error may know where it happened (``span``: character offsets in the analyst's SQL) and how
to fix it (``fixes``: replacements, e.g. "did you mean"); :func:`planner.locate.locate`
turns both into (line, column) ranges. The per-warehouse refusals (WAREHOUSE_UNSUPPORTED,
WAREHOUSE_LIMIT, FUNCTION_LIMIT) point at a node whose recorded position may be only its name;
their ``extent`` says how locate widens it to the whole call or construct.
"""

from __future__ import annotations

from typing import Any

from planner.positions import Extent, Fix, Span

# Widen a refusal's span to the whole call (name to closing parenthesis) unless told otherwise.
CALL = Extent()


class PlannerError(Exception):
    code = "INVALID_SQL"

    def __init__(self, message: str, *, span: Span | None = None, fixes: tuple[Fix, ...] = (),
                 **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.span = span
        self.fixes = fixes
        self.related: tuple[PlannerError, ...] = ()  # further problems of the same kind, for an IDE
        self.extent: Extent | None = None  # how to widen ``span`` to the whole offending text
        self.extensions: dict[str, Any] = {k: v for k, v in extensions.items() if v is not None}


class InvalidSQL(PlannerError):
    code = "INVALID_SQL"

    def __init__(self, message: str, line: int | None = None, column: int | None = None, *,
                 span: Span | None = None, fixes: tuple[Fix, ...] = ()) -> None:
        super().__init__(message, span=span, fixes=fixes, line=line, column=column)
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


class ColumnNotFound(PlannerError):
    code = "COLUMN_NOT_FOUND"


class AmbiguousColumn(PlannerError):
    code = "AMBIGUOUS_COLUMN"


class WarehouseUnsupported(PlannerError):
    code = "WAREHOUSE_UNSUPPORTED"

    def __init__(self, message: str, warehouse: str, feature: str, *, span: Span | None = None,
                 extent: Extent = CALL) -> None:
        super().__init__(message, span=span, warehouse=warehouse, feature=feature)
        self.extent = extent


class WarehouseLimit(PlannerError):
    code = "WAREHOUSE_LIMIT"

    def __init__(self, message: str, warehouse: str, limit: str, *, span: Span | None = None,
                 extent: Extent = CALL) -> None:
        super().__init__(message, span=span, warehouse=warehouse, limit=limit)
        self.extent = extent


class FunctionLimit(PlannerError):
    code = "FUNCTION_LIMIT"

    def __init__(self, message: str, function: str, limit: int, *, span: Span | None = None,
                 extent: Extent = CALL) -> None:
        super().__init__(message, span=span, function=function, limit=limit)
        self.extent = extent


class InvalidCorrection(PlannerError):
    code = "INVALID_INPUT"
