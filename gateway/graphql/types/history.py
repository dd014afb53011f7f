"""GraphQL types of the caller's query history."""

from __future__ import annotations

from datetime import datetime

import strawberry

from gateway.graphql.types.queries import GuardrailType
from gateway.services.history import ExecutionSummary, HistoryEntry


@strawberry.type
class HistoryExecution:
    execution_id: strawberry.ID
    status: str = strawberry.field(description="OK, or the refusal or failure that ended it.")
    error_code: str | None
    row_count: int | None
    elapsed_ms: float | None
    overrides: list[GuardrailType]
    at: datetime

    @classmethod
    def of(cls, e: ExecutionSummary) -> HistoryExecution:
        return cls(execution_id=strawberry.ID(e.execution_id), status=e.status, error_code=e.error_code,
                   row_count=e.row_count, elapsed_ms=e.elapsed_ms,
                   overrides=[GuardrailType[o] for o in e.overrides if o in GuardrailType.__members__], at=e.at)


@strawberry.type
class QueryHistoryEntry:
    preview_id: strawberry.ID
    original_sql: str = strawberry.field(description="The SQL as the caller sent it.")
    dialect: str
    parent_id: strawberry.ID | None = strawberry.field(description="The preview this one corrected.")
    guardrails: list[GuardrailType]
    created_at: datetime
    expires_at: datetime
    expired: bool = strawberry.field(description="Past expiresAt: preview it again to run it.")
    executions: list[HistoryExecution] = strawberry.field(description="Newest first.")

    @classmethod
    def of(cls, h: HistoryEntry) -> QueryHistoryEntry:
        return cls(preview_id=strawberry.ID(h.preview_id), original_sql=h.original_sql, dialect=h.dialect,
                   parent_id=strawberry.ID(h.parent_id) if h.parent_id else None,
                   guardrails=[GuardrailType[g] for g in h.guardrails if g in GuardrailType.__members__],
                   created_at=h.created_at, expires_at=h.expires_at, expired=h.expired,
                   executions=[HistoryExecution.of(e) for e in h.executions])
