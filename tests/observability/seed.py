"""Seeds the durable data the dashboard reads: real queries through GraphQL, contracts and drift rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import create_engine, insert
from sqlalchemy.pool import NullPool

from gateway.store.all_models import metadata
from gateway.store.engine import sync_url
from tests.support.harness import Gateway

PREVIEW = "mutation($sql: String!) { previewQuery(input: {sql: $sql}) { id guardrails { type requiresOverride } } }"
EXECUTE = "mutation($id: ID!, $o: [GuardrailType!]) { executeQuery(previewId: $id, overrides: $o) { rowCount } }"

LATE_CONTRACT = "orders_feed"  # 2 h behind a 1 h SLA
FRESH_CONTRACT = "clicks_feed"  # 5 min behind a 30 min SLA


async def run_queries(gateway: Gateway) -> dict[str, Any]:
    """Three previews, two executed; one trips CARTESIAN_PRODUCT, one uses an unverified join."""
    simple = (await gateway.ok(PREVIEW, {"sql": "SELECT id FROM customers"}, role="ANALYST"))["previewQuery"]
    joined = (await gateway.ok(PREVIEW, {"sql": "SELECT o.id FROM orders o JOIN customers c ON o.customer_id = c.id"},
                               role="ANALYST"))["previewQuery"]
    cartesian = (await gateway.ok(PREVIEW, {"sql": "SELECT * FROM customers, orders"}, role="ANALYST"))["previewQuery"]
    await gateway.ok(EXECUTE, {"id": simple["id"], "o": []}, role="ANALYST")
    await gateway.ok(EXECUTE, {"id": joined["id"], "o": []}, role="ANALYST")
    return {"previews": 3, "executed": 2, "guardrails": [g["type"] for p in (simple, joined, cartesian)
                                                         for g in p["guardrails"]]}


def seed_contracts_and_drift(catalog_url: str, now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    tables = metadata.tables
    engine = create_engine(sync_url(catalog_url), poolclass=NullPool)
    with engine.begin() as conn:
        for contract, lag, sla in ((LATE_CONTRACT, timedelta(hours=2), 3600), (FRESH_CONTRACT, timedelta(minutes=5), 1800)):
            conn.execute(insert(tables["contracts"]).values(
                id=contract, table_name=contract, created_at=now - timedelta(days=1),
                newest_event_time=now - lag, last_ingested_at=now - lag))
            conn.execute(insert(tables["contract_versions"]).values(
                contract_id=contract, version=1, columns=[], semantics={}, sla={"maxLagSeconds": sla},
                warnings=[], created_by="seed@example.com", created_at=now - timedelta(days=1)))
        for severity, count in (("BREAKING", 2), ("WARNING", 1), ("COMPATIBLE", 3)):
            for n in range(count):
                conn.execute(insert(tables["drift_reports"]).values(
                    table_name="orders", contract_id=None, source="refresh", changes=[], severity=severity,
                    migration_guide="", fingerprint=f"{severity}-{n}", detected_by="seed@example.com",
                    detected_at=now - timedelta(hours=n)))
    engine.dispose()
