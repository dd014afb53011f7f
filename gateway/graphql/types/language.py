"""GraphQL types of the IDE's language surface: diagnostics, ranges, quick fixes, completions."""

from __future__ import annotations

import enum

import strawberry

from gateway.graphql.enums import TableState
from planner.complete import Completion
from planner.diagnostics import Diagnostic as DiagnosticRecord
from planner.positions import Range


@strawberry.type(description="A place in the SQL as sent: 1-based line, and 1-based column in characters.")
class SqlPosition:
    line: int
    column: int


@strawberry.type(description="From `start` to just past `end` (the character at `end` is not included).")
class SqlRange:
    start: SqlPosition
    end: SqlPosition

    @classmethod
    def of(cls, r: Range) -> SqlRange:
        return cls(start=SqlPosition(line=r.start.line, column=r.start.column),
                   end=SqlPosition(line=r.end.line, column=r.end.column))


@strawberry.enum
class DiagnosticSeverity(enum.Enum):
    ERROR = "ERROR"
    WARNING = "WARNING"


@strawberry.type(description="A quick fix: put `replacement` in place of the text at `range`.")
class DiagnosticSuggestion:
    message: str
    replacement: str
    range: SqlRange


@strawberry.type
class Diagnostic:
    code: str = strawberry.field(description="The error code previewQuery gives, or the guardrail type.")
    severity: DiagnosticSeverity
    message: str
    range: SqlRange
    suggestions: list[DiagnosticSuggestion]

    @classmethod
    def of(cls, d: DiagnosticRecord) -> Diagnostic:
        return cls(code=d.code, severity=DiagnosticSeverity(d.severity), message=d.message, range=SqlRange.of(d.range),
                   suggestions=[DiagnosticSuggestion(message=s.message, replacement=s.replacement,
                                                     range=SqlRange.of(s.range)) for s in d.suggestions])


@strawberry.enum
class CompletionKind(enum.Enum):
    TABLE = "TABLE"
    COLUMN = "COLUMN"
    FUNCTION = "FUNCTION"
    JOIN = "JOIN"
    KEYWORD = "KEYWORD"


@strawberry.type
class CompletionItem:
    label: str
    kind: CompletionKind
    insert_text: str
    detail: str | None
    state: TableState | None = strawberry.field(description="Tables: the state of the version a query reaches.")
    type: str | None = strawberry.field(description="Columns: the type in the version a query reaches.")
    table: str | None = strawberry.field(description="Columns: the logical table they belong to.")


@strawberry.type
class QueryCompletion:
    range: SqlRange = strawberry.field(description="The word being typed: what the chosen item replaces.")
    items: list[CompletionItem]

    @classmethod
    def of(cls, c: Completion) -> QueryCompletion:
        return cls(range=SqlRange.of(c.range), items=[
            CompletionItem(label=i.label, kind=CompletionKind(i.kind), insert_text=i.insert_text, detail=i.detail,
                           state=TableState(i.state) if i.state else None, type=i.type, table=i.table)
            for i in c.items])
