"""Repository of stored previews and executions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from gateway.store.queries_models import QueryExecutionRow, QueryPreviewRow

PREVIEWS: Table = QueryPreviewRow.__table__  # type: ignore[assignment]
EXECUTIONS: Table = QueryExecutionRow.__table__  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class StoredPreview:
    id: str
    author: str
    author_role: str
    original_sql: str
    dialect: str
    pins: tuple[tuple[str, int], ...]
    plan: dict[str, Any]
    catalog_epoch: int
    parent_id: str | None
    skip_reason: str | None
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class NewExecution:
    preview_id: str
    actor: str
    role: str
    sql: str
    status: str
    error_code: str | None
    row_count: int | None
    elapsed_ms: float | None
    tables: list[dict[str, Any]]
    joins: list[dict[str, Any]]
    overrides: list[str]
    skip_reason: str | None
    request_id: str | None
    at: datetime


class QueriesRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get_preview(self, preview_id: str) -> StoredPreview | None:
        row = await self._session.get(QueryPreviewRow, preview_id)
        return None if row is None else _stored(row)

    async def executions(self, *, since: datetime | None = None, limit: int = 10_000) -> list[dict[str, Any]]:
        query = select(QueryExecutionRow).order_by(QueryExecutionRow.id.desc()).limit(limit)
        if since is not None:
            query = query.where(QueryExecutionRow.at >= since)
        rows = (await self._session.scalars(query)).all()
        return [{"id": r.id, "preview_id": r.preview_id, "actor": r.actor, "status": r.status,
                 "error_code": r.error_code, "row_count": r.row_count, "elapsed_ms": r.elapsed_ms,
                 "tables": r.tables, "joins": r.joins, "skip_reason": r.skip_reason, "at": r.at}
                for r in rows]

    async def recent_previews(self, author: str, limit: int) -> list[StoredPreview]:
        """The author's own previews, newest first (served by ix_query_previews_author)."""
        query = (select(QueryPreviewRow).where(QueryPreviewRow.author == author)
                 .order_by(QueryPreviewRow.created_at.desc(), QueryPreviewRow.id.desc()).limit(limit))
        return [_stored(row) for row in (await self._session.scalars(query)).all()]

    async def executions_of(self, actor: str, preview_ids: Sequence[str]) -> list[dict[str, Any]]:
        """The actor's executions of these previews, newest first."""
        if not preview_ids:
            return []
        query = (select(QueryExecutionRow)
                 .where(QueryExecutionRow.actor == actor, QueryExecutionRow.preview_id.in_(list(preview_ids)))
                 .order_by(QueryExecutionRow.id.desc()))
        return [{"id": r.id, "preview_id": r.preview_id, "status": r.status, "error_code": r.error_code,
                 "row_count": r.row_count, "elapsed_ms": r.elapsed_ms, "overrides": r.overrides, "at": r.at}
                for r in (await self._session.scalars(query)).all()]


def _stored(row: QueryPreviewRow) -> StoredPreview:
    return StoredPreview(
        id=row.id, author=row.author, author_role=row.author_role, original_sql=row.original_sql,
        dialect=row.dialect, pins=tuple((str(t), int(v)) for t, v in row.pins), plan=row.plan,
        catalog_epoch=row.catalog_epoch, parent_id=row.parent_id, skip_reason=row.skip_reason,
        created_at=row.created_at, expires_at=row.expires_at)


def insert_query_records(session: Session, records: Sequence[StoredPreview | NewExecution]) -> list[int | None]:
    """Many previews and execution records in at most two statements, inside the caller's
    transaction; the execution ids (None for a preview), in the order given."""
    connection = session.connection()
    previews = [_preview_values(r) for r in records if isinstance(r, StoredPreview)]
    executions = [_execution_values(r) for r in records if isinstance(r, NewExecution)]
    if previews:
        connection.execute(insert(PREVIEWS), previews)
    ids: list[int] = []
    if executions:
        statement = insert(EXECUTIONS).returning(EXECUTIONS.c.id, sort_by_parameter_order=True)
        ids = [int(i) for i in connection.execute(statement, executions).scalars()]
    given = iter(ids)
    return [next(given) if isinstance(r, NewExecution) else None for r in records]


def _preview_values(preview: StoredPreview) -> dict[str, Any]:
    return {"id": preview.id, "author": preview.author, "author_role": preview.author_role,
            "original_sql": preview.original_sql, "dialect": preview.dialect,
            "pins": [list(p) for p in preview.pins], "plan": preview.plan, "catalog_epoch": preview.catalog_epoch,
            "parent_id": preview.parent_id, "skip_reason": preview.skip_reason,
            "created_at": preview.created_at, "expires_at": preview.expires_at}


def _execution_values(execution: NewExecution) -> dict[str, Any]:
    return {"preview_id": execution.preview_id, "actor": execution.actor, "role": execution.role,
            "sql": execution.sql, "status": execution.status, "error_code": execution.error_code,
            "row_count": execution.row_count, "elapsed_ms": execution.elapsed_ms, "tables": execution.tables,
            "joins": execution.joins, "overrides": execution.overrides, "skip_reason": execution.skip_reason,
            "request_id": execution.request_id, "at": execution.at}
