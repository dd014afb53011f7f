"""What /dashboard shows: panels computed from durable catalog tables, for admins.

Every panel reads its own source in its own unit of work (``uow.dashboard``), so a source that
does not exist yet — or fails — leaves that one panel saying so and the others intact.
Panels are plain data (bars, series); ``gateway.http.dashboard_charts`` draws them.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from gateway.domain import Capability
from gateway.records import Principal
from gateway.services.access import require
from gateway.services.base import ServiceDeps, aware
from gateway.store.dashboard import ContractLag, DashboardRepository, Execution

log = logging.getLogger("spyne.dashboard")
T = TypeVar("T")

DEFAULT_SLA_SECONDS = 3600
NO_DATA = "no data yet"
SEVERITIES = ("COMPATIBLE", "WARNING", "BREAKING")


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: float
    limit: float | None = None  # drawn as a marker (an SLA)
    tone: str = "ok"  # ok | warn | bad | info


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    points: tuple[tuple[str, float], ...]  # (day, value)


@dataclass(frozen=True, slots=True)
class Panel:
    key: str
    title: str
    unit: str
    bars: tuple[Bar, ...] = ()
    series: tuple[Series, ...] = ()
    summary: str = ""
    empty: str | None = None  # why there is nothing to draw; None when there is data


@dataclass(frozen=True, slots=True)
class Dashboard:
    generated_at: datetime
    window_days: int
    panels: tuple[Panel, ...]
    recent: tuple[tuple[datetime, str, str, str], ...] = field(default_factory=tuple)

    def panel(self, key: str) -> Panel:
        return next(p for p in self.panels if p.key == key)


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile: a value that was actually observed."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def _days(now: datetime, window_days: int) -> list[str]:
    return [(now - timedelta(days=n)).date().isoformat() for n in range(window_days - 1, -1, -1)]


# --- one function per panel: source data in, panel out --------------------------------------


def lag_panel(lags: list[ContractLag] | None, now: datetime) -> Panel:
    base = Panel("ingestion_lag", "Ingestion lag per contract vs SLA", "s")
    if not lags:
        return _empty(base)
    bars = []
    for lag in lags:
        sla = lag.sla or {}
        limit = float(sla.get("maxLagSeconds") or sla.get("max_lag_seconds") or DEFAULT_SLA_SECONDS)
        warn_at = float(sla.get("alertThresholdSeconds") or sla.get("alert_threshold_seconds") or 0.8 * limit)
        if lag.newest_event_time is None:
            bars.append(Bar(lag.contract_id, 0.0, limit, "info"))
            continue
        seconds = max(0.0, (now - aware(lag.newest_event_time)).total_seconds())
        tone = "bad" if seconds > limit else "warn" if seconds > warn_at else "ok"
        bars.append(Bar(lag.contract_id, seconds, limit, tone))
    late = sum(1 for b in bars if b.tone == "bad")
    return Panel(base.key, base.title, base.unit, bars=tuple(bars),
                 summary=f"{late} of {len(bars)} contracts past their SLA")


RUN_TONES = {"SUCCEEDED": "ok", "RUNNING": "info", "FAILED": "bad", "INTERRUPTED": "bad"}


def runs_panel(counts: Counter[str] | None) -> Panel:
    base = Panel("ingestion_runs", "Ingestion runs by status", "runs")
    if not counts:
        return _empty(base)
    labels = [*RUN_TONES, *sorted(set(counts) - set(RUN_TONES))]
    bars = tuple(Bar(s, float(counts.get(s, 0)), tone=RUN_TONES.get(s, "info")) for s in labels)
    return Panel(base.key, base.title, base.unit, bars=bars,
                 summary=f"{counts.get('INTERRUPTED', 0)} interrupted, {counts.get('FAILED', 0)} failed "
                         f"of {sum(counts.values())}")


def drift_panel(counts: Counter[str] | None) -> Panel:
    base = Panel("drift", "Drift reports by severity", "reports")
    if not counts:
        return _empty(base)
    tones = {"COMPATIBLE": "ok", "WARNING": "warn", "BREAKING": "bad"}
    labels = [*SEVERITIES, *sorted(set(counts) - set(SEVERITIES))]
    bars = tuple(Bar(s, float(counts.get(s, 0)), tone=tones.get(s, "info")) for s in labels)
    return Panel(base.key, base.title, base.unit, bars=bars,
                 summary=f"{counts.get('BREAKING', 0)} breaking of {sum(counts.values())}")


def join_panel(executions: list[Execution] | None) -> Panel:
    base = Panel("join_usage", "Join usage in executed queries", "uses")
    if not executions:
        return _empty(base)
    used: Counter[str] = Counter()
    for execution in executions:
        for join in execution.joins:
            if isinstance(join, dict):
                join_id = join.get("joinId")
                used[f"{join_id} v{join.get('version')}" if join_id else "unverified"] += 1
    if not used:
        return _empty(base, "no executed query used a join yet")
    bars = tuple(Bar(label, float(n), tone="warn" if label == "unverified" else "ok")
                 for label, n in used.most_common(12))
    return Panel(base.key, base.title, base.unit, bars=bars, summary=f"{sum(used.values())} join uses")


def conversion_panel(previews: list[tuple[str, datetime, dict[str, object]]] | None,
                     executions: list[Execution] | None, now: datetime, window_days: int) -> Panel:
    base = Panel("conversion", "Preview → execution conversion", "queries")
    if not previews:
        return _empty(base)
    executed = {e.preview_id for e in executions or () if e.status.upper() in ("OK", "SUCCESS", "SUCCEEDED")}
    days = _days(now, window_days)
    per_day_previews = Counter(aware(at).date().isoformat() for _, at, _ in previews)
    per_day_executed = Counter(aware(at).date().isoformat() for pid, at, _ in previews if pid in executed)
    converted = sum(1 for pid, _, _ in previews if pid in executed)
    rate = 100.0 * converted / len(previews)
    return Panel(
        base.key, base.title, base.unit,
        bars=(Bar("previewed", float(len(previews)), tone="info"), Bar("executed", float(converted))),
        series=(Series("previewed", tuple((d, float(per_day_previews[d])) for d in days)),
                Series("executed", tuple((d, float(per_day_executed[d])) for d in days))),
        summary=f"{rate:.0f}% of previews executed")


def guardrail_panel(previews: list[tuple[str, datetime, dict[str, object]]] | None) -> Panel:
    base = Panel("guardrails", "Guardrail triggers by type", "previews")
    if not previews:
        return _empty(base)
    counts: Counter[str] = Counter()
    for _, _, plan in previews:
        guardrails = plan.get("guardrails")
        for guardrail in guardrails if isinstance(guardrails, list) else ():
            if isinstance(guardrail, dict) and guardrail.get("type"):
                counts[str(guardrail["type"])] += 1
    if not counts:
        return _empty(base, "no guardrail triggered in this window")
    bars = tuple(Bar(t, float(n), tone="warn") for t, n in counts.most_common())
    return Panel(base.key, base.title, base.unit, bars=bars, summary=f"{sum(counts.values())} triggers")


def latency_panel(executions: list[Execution] | None, now: datetime, window_days: int) -> Panel:
    base = Panel("latency", "Query latency p50 / p95", "ms")
    timed = [e for e in executions or () if e.elapsed_ms is not None]
    if not timed:
        return _empty(base)
    values = [e.elapsed_ms for e in timed if e.elapsed_ms is not None]
    by_day: dict[str, list[float]] = {}
    for e in timed:
        by_day.setdefault(aware(e.at).date().isoformat(), []).append(float(e.elapsed_ms or 0))
    days = [d for d in _days(now, window_days) if d in by_day]
    p50, p95 = percentile(values, 50), percentile(values, 95)
    return Panel(
        base.key, base.title, base.unit,
        bars=(Bar("p50", p50, tone="ok"), Bar("p95", p95, tone="bad" if p95 > 5000 else "warn")),
        series=(Series("p50", tuple((d, percentile(by_day[d], 50)) for d in days)),
                Series("p95", tuple((d, percentile(by_day[d], 95)) for d in days))),
        summary=f"p50 {p50:.0f} ms, p95 {p95:.0f} ms over {len(values)} executions")


def promotions_panel(promotions: list[datetime], transitions: Counter[str], now: datetime,
                     window_days: int) -> Panel:
    base = Panel("promotions", "Promotions per day", "promotions")
    transitions = Counter({t: n for t, n in transitions.items() if t != "SEED"})  # demo loading
    if not promotions and not transitions:
        return _empty(base)
    per_day = Counter(aware(at).date().isoformat() for at in promotions)
    days = _days(now, window_days)
    bars = tuple(Bar(t, float(n), tone="info") for t, n in sorted(transitions.items()))
    return Panel(base.key, base.title, base.unit, bars=bars,
                 series=(Series("promotions", tuple((d, float(per_day[d])) for d in days)),),
                 summary=f"{len(promotions)} promotions")


def _empty(panel: Panel, reason: str = NO_DATA) -> Panel:
    return Panel(panel.key, panel.title, panel.unit, empty=reason)


class DashboardService:
    def __init__(self, deps: ServiceDeps) -> None:
        self._deps = deps

    async def snapshot(self, principal: Principal, window_days: int = 7) -> Dashboard:
        require(principal, Capability.VIEW_DASHBOARD)
        window_days = min(max(window_days, 1), 90)
        now = self._deps.clock()
        since = now - timedelta(days=window_days)
        lags = await self._read("contracts", lambda r: r.contract_lags())
        drift = await self._read("drift_reports", lambda r: r.drift_by_severity())
        runs = await self._read("ingestion_runs", lambda r: r.runs_by_status(since))
        previews = await self._read("query_previews", lambda r: r.previews_since(since))
        executions = await self._read("query_executions", lambda r: r.executions_since(since))
        promotions = await self._read("promotions", lambda r: r.promotions_since(since)) or []
        transitions = await self._read("state_history", lambda r: r.transitions_since(since)) or Counter()
        recent = await self._read("audit_events", lambda r: r.recent_audit()) or []
        panels = (
            lag_panel(lags, now),
            runs_panel(runs),
            drift_panel(drift),
            join_panel(executions),
            conversion_panel(previews, executions, now, window_days),
            guardrail_panel(previews),
            latency_panel(executions, now, window_days),
            promotions_panel(promotions, transitions, now, window_days),
        )
        return Dashboard(now, window_days, panels, tuple(recent))

    async def _read(self, source: str, read: Callable[[DashboardRepository], Awaitable[T]]) -> T | None:
        # One unit of work per source: on PostgreSQL a failed statement poisons its transaction.
        try:
            async with self._deps.uow() as uow:
                return await read(uow.dashboard)
        except Exception:  # a panel reports its source as missing; the page still renders
            log.warning("dashboard source %s could not be read", source, exc_info=True)
            return None
