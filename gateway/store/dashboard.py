"""Read-only queries behind the /dashboard panels: one small function per source table.

Each function reads one area's durable table (so the dashboard survives restarts) through
lightweight Core constructs, without importing that area's models; it answers ``None`` when its
table does not exist yet (the area has not landed, or its migration has not run), and the panel
then says "no data yet". Reads are bounded: a time window and a row cap.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, column, func, inspect, select, table
from sqlalchemy.ext.asyncio import AsyncSession

ROW_CAP = 20_000


@dataclass(frozen=True, slots=True)
class ContractLag:
    contract_id: str
    newest_event_time: datetime | None
    last_ingested_at: datetime | None
    sla: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class Execution:
    preview_id: str
    status: str
    elapsed_ms: float | None
    joins: list[Any]
    at: datetime


class DashboardRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._tables: set[str] | None = None

    async def has(self, name: str) -> bool:
        if self._tables is None:
            names = await self._session.run_sync(lambda s: inspect(s.connection()).get_table_names())
            self._tables = set(names)
        return name in self._tables

    # --- ingestion (contracts, contract_versions) ----------------------------------------

    async def contract_lags(self) -> list[ContractLag] | None:
        if not (await self.has("contracts") and await self.has("contract_versions")):
            return None
        contracts = table("contracts", column("id"), column("newest_event_time", DateTime(timezone=True)), column("last_ingested_at", DateTime(timezone=True)))
        versions = table("contract_versions", column("contract_id"), column("version"), column("sla", JSON))
        latest = (select(versions.c.contract_id, func.max(versions.c.version).label("version"))
                  .group_by(versions.c.contract_id).subquery())
        query = (
            select(contracts.c.id, contracts.c.newest_event_time, contracts.c.last_ingested_at, versions.c.sla)
            .select_from(contracts)
            .outerjoin(latest, latest.c.contract_id == contracts.c.id)
            .outerjoin(versions, (versions.c.contract_id == latest.c.contract_id)
                       & (versions.c.version == latest.c.version))
            .order_by(contracts.c.id).limit(200)
        )
        rows = (await self._session.execute(query)).all()
        return [ContractLag(r[0], _dt(r[1]), _dt(r[2]), _json(r[3])) for r in rows]

    async def runs_by_status(self, since: datetime) -> Counter[str] | None:
        """Ingestion runs started since ``since``, by status (INTERRUPTED ones included)."""
        if not await self.has("ingestion_runs"):
            return None
        runs = table("ingestion_runs", column("status"), column("started_at", DateTime(timezone=True)))
        rows = (await self._session.execute(
            select(runs.c.status, func.count()).where(runs.c.started_at >= since)
            .group_by(runs.c.status))).all()
        return Counter({str(status): int(count) for status, count in rows})

    # --- drift ---------------------------------------------------------------------------

    async def drift_by_severity(self) -> Counter[str] | None:
        if not await self.has("drift_reports"):
            return None
        reports = table("drift_reports", column("severity"))
        rows = (await self._session.execute(
            select(reports.c.severity, func.count()).group_by(reports.c.severity))).all()
        return Counter({str(severity): int(count) for severity, count in rows})

    # --- queries (query_previews, query_executions) --------------------------------------

    async def previews_since(self, since: datetime) -> list[tuple[str, datetime, dict[str, Any]]] | None:
        if not await self.has("query_previews"):
            return None
        previews = table("query_previews", column("id"), column("created_at", DateTime(timezone=True)), column("plan", JSON))
        rows = (await self._session.execute(
            select(previews.c.id, previews.c.created_at, previews.c.plan)
            .where(previews.c.created_at >= since).order_by(previews.c.created_at.desc()).limit(ROW_CAP))).all()
        return [(str(r[0]), _dt(r[1]) or since, _json(r[2]) or {}) for r in rows]

    async def executions_since(self, since: datetime) -> list[Execution] | None:
        if not await self.has("query_executions"):
            return None
        executions = table("query_executions", column("preview_id"), column("status"), column("elapsed_ms"),
                           column("joins", JSON), column("at", DateTime(timezone=True)))
        rows = (await self._session.execute(
            select(executions.c.preview_id, executions.c.status, executions.c.elapsed_ms, executions.c.joins,
                   executions.c.at)
            .where(executions.c.at >= since).order_by(executions.c.at.desc()).limit(ROW_CAP))).all()
        return [Execution(str(r[0]), str(r[1]), float(r[2]) if r[2] is not None else None,
                          list(_json(r[3]) or []), _dt(r[4]) or since) for r in rows]

    # --- lifecycle and audit (foundation) ------------------------------------------------

    async def promotions_since(self, since: datetime) -> list[datetime]:
        promotions = table("promotions", column("at", DateTime(timezone=True)))
        rows = (await self._session.execute(
            select(promotions.c.at).where(promotions.c.at >= since).limit(ROW_CAP))).all()
        return [d for d in (_dt(r[0]) for r in rows) if d is not None]

    async def transitions_since(self, since: datetime) -> Counter[str]:
        history = table("state_history", column("transition"), column("at", DateTime(timezone=True)))
        rows = (await self._session.execute(
            select(history.c.transition, func.count()).where(history.c.at >= since)
            .group_by(history.c.transition))).all()
        return Counter({str(t): int(n) for t, n in rows})

    async def recent_audit(self, limit: int = 12) -> list[tuple[datetime, str, str, str]]:
        audit = table("audit_events", column("id"), column("at", DateTime(timezone=True)), column("actor"), column("action"),
                      column("entity_id"))
        rows = (await self._session.execute(
            select(audit.c.at, audit.c.actor, audit.c.action, audit.c.entity_id)
            .order_by(audit.c.id.desc()).limit(limit))).all()
        return [(_dt(r[0]) or datetime.min, str(r[1]), str(r[2]), str(r[3])) for r in rows]


def _dt(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    # Core reads without the model's types: SQLite hands back ISO text.
    return datetime.fromisoformat(str(value))


def _json(value: Any) -> Any:
    if isinstance(value, str):  # a JSON column some backend handed back as text
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value
