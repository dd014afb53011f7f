"""The caller's own recent previews and what became of them: the workbench's history panel.

Only the caller's previews are listed (an admin's history is their own too: other people's
previews stay reachable one at a time through ``queryPreview``). Each entry carries the SQL the
caller typed, so nothing is shown that its author did not write or was not already shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from gateway.domain import Capability
from gateway.records import Principal
from gateway.services.access import require
from gateway.services.base import ServiceDeps, aware

MAX_HISTORY = 200


@dataclass(frozen=True, slots=True)
class ExecutionSummary:
    execution_id: str
    status: str
    error_code: str | None
    row_count: int | None
    elapsed_ms: float | None
    overrides: tuple[str, ...]
    at: datetime


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    preview_id: str
    original_sql: str
    dialect: str
    parent_id: str | None
    guardrails: tuple[str, ...]
    created_at: datetime
    expires_at: datetime
    expired: bool
    executions: tuple[ExecutionSummary, ...]


class HistoryService:
    def __init__(self, deps: ServiceDeps) -> None:
        self._deps = deps

    async def recent(self, principal: Principal, first: int = 20) -> list[HistoryEntry]:
        """The caller's ``first`` newest previews, each with the caller's executions of it."""
        require(principal, Capability.QUERY)
        limit = max(1, min(first, MAX_HISTORY))
        async with self._deps.uow() as uow:
            previews = await uow.queries.recent_previews(principal.email, limit)
            executions = await uow.queries.executions_of(principal.email, [p.id for p in previews])
        by_preview: dict[str, list[ExecutionSummary]] = {}
        for e in executions:
            by_preview.setdefault(e["preview_id"], []).append(ExecutionSummary(
                execution_id=str(e["id"]), status=e["status"], error_code=e["error_code"],
                row_count=e["row_count"], elapsed_ms=e["elapsed_ms"],
                overrides=tuple(str(o) for o in e["overrides"] or ()), at=aware(e["at"])))
        now = self._deps.clock()
        return [HistoryEntry(
            preview_id=p.id, original_sql=p.original_sql, dialect=p.dialect, parent_id=p.parent_id,
            guardrails=tuple(str(g["type"]) for g in p.plan.get("guardrails", ())),
            created_at=aware(p.created_at), expires_at=aware(p.expires_at), expired=aware(p.expires_at) <= now,
            executions=tuple(by_preview.get(p.id, ()))) for p in previews]
