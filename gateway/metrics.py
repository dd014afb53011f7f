"""Every Prometheus metric of the gateway, by name, in one place.

Label values are bounded: ids, enum names and statuses, never SQL text or emails. With several
uvicorn workers, ``PROMETHEUS_MULTIPROC_DIR`` is set before import (``spyne serve --workers``)
and ``/metrics`` aggregates the workers' files.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

# --- ingestion ---
INGESTION_LAG_SECONDS = Gauge(
    "spyne_ingestion_lag_seconds", "Now minus the newest event time ingested, per contract.",
    ["contract_id"], multiprocess_mode="max")
INGESTION_ROWS = Counter(
    "spyne_ingestion_rows", "Rows seen by ingestion, by outcome (accepted, duplicate, quarantined).",
    ["contract_id", "status"])
INGESTION_SLA_SECONDS = Gauge(
    "spyne_ingestion_sla_seconds", "The contract's freshness SLA (maxLagSeconds); alerts compare the lag to it.",
    ["contract_id"], multiprocess_mode="max")
INGESTION_RUNS = Counter(
    "spyne_ingestion_runs", "Ingestion runs ended, by status (SUCCEEDED, FAILED, INTERRUPTED).",
    ["contract_id", "status"])
REPLAY_COUNT = Counter("spyne_replay_count", "Replays carried out.", ["contract_id"])
BACKFILL_ROWS = Counter("spyne_backfill_rows", "Rows written by backfills.", ["contract_id"])

# --- joins ---
JOIN_USAGE = Counter("spyne_join_usage", "Executed queries that used an accepted join.", ["join_id"])
JOIN_CANDIDATE_REJECTED = Counter(
    "spyne_join_candidate_rejected", "Join candidates rejected by an admin.", ["reason"])
JOIN_VALIDATIONS = Counter(
    "spyne_join_validations", "Join validations run, by result (ok, flagged, failed).", ["result"])

# --- drift ---
DRIFT_DETECTED = Counter(
    "spyne_drift_detected", "Schema drift detections, by severity.", ["contract_id", "severity"])
DRIFT_RESOLVED = Counter("spyne_drift_resolved", "Drift reports resolved.", ["contract_id"])

# --- queries ---
QUERY_LATENCY = Histogram(
    "spyne_query_latency_seconds", "Time spent planning and executing queries.", ["phase"],
    buckets=LATENCY_BUCKETS)
QUERY_PREVIEW_VIEWED = Counter("spyne_query_preview_viewed", "Query previews created or viewed.")
QUERY_EXECUTED = Counter("spyne_query_executed", "Query executions, by status.", ["status"])
QUERY_CORRECTIONS = Counter("spyne_query_corrections", "Corrections applied to previews.")
QUERY_GUARDRAIL_TRIGGERED = Counter(
    "spyne_query_guardrail_triggered", "Guardrails raised by previews, by type.", ["type"])

# --- lifecycle and auth ---
PROMOTIONS = Counter("spyne_promotions", "Promotion attempts, by result.", ["result"])
AUTH_FAILURES = Counter("spyne_auth_failures", "Refused tokens, by reason.", ["reason"])

# --- live events (the `events` subscription) ---
EVENTS_DROPPED = Counter(
    "spyne_events_dropped", "Events dropped because a subscriber's queue was full (oldest first).")
EVENT_SUBSCRIBERS = Gauge(
    "spyne_event_subscribers", "Open `events` subscriptions.", multiprocess_mode="livesum")

# --- HTTP ---
REQUESTS = Counter("spyne_http_requests", "HTTP requests, by route and status class.", ["route", "status"])
REQUEST_LATENCY = Histogram(
    "spyne_http_request_duration_seconds", "HTTP request latency, by route.", ["route"],
    buckets=LATENCY_BUCKETS)


def render() -> tuple[bytes, str]:
    """The text exposition of every metric (all workers' in multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
