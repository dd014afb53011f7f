"""Property: whatever JSON arrives, every record is written or quarantined — none lost, never a 500.

Hypothesis builds batches of records over a contract with a column of every type, from arbitrary
JSON (huge integers, NaN and infinities, lone surrogates, NUL, timestamps at the edges of the
calendar with any offset, nested values, unknown columns, wrong types) and sends each batch
through the NDJSON endpoint and through the GraphQL ``ingest`` mutation. Each answer is a 200 with
``accepted + duplicates + quarantined`` equal to the records sent, and the warehouse agrees: the
run's landing-log rows are the written records, its quarantine rows the quarantined ones.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from tests.ingestion.conftest import INGEST
from tests.security.test_ingestion_value_attacks import DOCS_CONTRACT, docs_contract
from tests.support.harness import Gateway

COLUMNS = [c["name"] for c in docs_contract()["columns"]]

offsets = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
    lambda m: timezone(timedelta(minutes=m)))
edge_times = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59),
                          timezones=offsets | st.just(UTC) | st.none()).map(lambda d: d.isoformat())
scalars = (st.none() | st.booleans() | st.integers() | st.floats()
           | st.sampled_from([10 ** 400, -(10 ** 400), 2 ** 63, -(2 ** 63) - 1, 2 ** 31, 1e308, -0.0])
           | st.text(max_size=12)
           | st.text(alphabet=st.characters(categories=["Cs", "Cc", "Zs", "So"]), max_size=4)
           | edge_times | st.dates().map(lambda d: d.isoformat())
           | st.sampled_from(["NaN", "1e999", "true", "FALSE", " 42 ", "0001-01-01", "9999-12-31T23:59:59-14:00",
                              "0001-01-01T00:00:00+01:00", "\u0000", "\ud800", "k" * 3000]))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=8)
records = st.dictionaries(st.sampled_from(COLUMNS) | st.text(max_size=4), json_values, max_size=len(COLUMNS)) | json_values
batches = st.lists(records, min_size=1, max_size=12)


def ndjson(batch: list[Any]) -> bytes:
    # Python's json writes NaN/Infinity and \\ud800 escapes: exactly the hostile text a sender may produce.
    return ("\n".join(json.dumps(r) for r in batch) + "\n").encode()


def run_rows(gw: Gateway, run_id: str) -> tuple[int, int]:
    pg = gw.services.deps.warehouse.backend == "postgresql"
    landing, quarantine = (("spyne_ingest.landing", "spyne_ingest.quarantine") if pg
                           else ("spyne_ingest__landing", "spyne_ingest__quarantine"))
    with gw.services.deps.warehouse.engine.connect() as conn:
        landed = conn.execute(text(f"SELECT COUNT(*) FROM {landing} WHERE run_id = :r"), {"r": run_id}).scalar_one()
        held = conn.execute(text(f"SELECT COUNT(*) FROM {quarantine} WHERE run_id = :r"), {"r": run_id}).scalar_one()
    return int(landed), int(held)


def check(gw: Gateway, result: dict[str, Any], sent: int) -> None:
    assert result["accepted"] + result["duplicates"] + result["quarantined"] == sent, result
    assert run_rows(gw, result["runId"]) == (result["accepted"] + result["duplicates"], result["quarantined"])


async def test_any_json_is_written_or_quarantined_never_lost(gw: Gateway) -> None:
    await gw.ok(DOCS_CONTRACT, {"input": docs_contract()}, role="ENGINEER")
    headers = {"Authorization": f"Bearer {gw.token('ENGINEER')}", "Content-Type": "application/x-ndjson"}
    examples: list[list[Any]] = []

    @settings(max_examples=40, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(batches)
    def collect(batch: list[Any]) -> None:
        examples.append(batch)

    collect()  # hypothesis draws the batches; the gateway (async, one event loop) gets each below
    for batch in examples:
        response = await gw.client.post("/ingest/docs", content=ndjson(batch), headers=headers)
        assert response.status_code == 200, (response.status_code, response.text[:500], batch)
        check(gw, response.json(), len(batch))
        # Sent as Python's json writes it (NaN, \\ud800 escapes): what a careless client sends.
        graphql = await gw.client.post("/graphql", content=json.dumps(
            {"query": INGEST, "variables": {"id": "docs", "records": batch}}).encode(),
            headers={**headers, "Content-Type": "application/json"})
        body = graphql.json()
        assert graphql.status_code == 200, (graphql.status_code, body, batch)
        if None in batch:  # `records: [JSON!]!`: a null record is refused by the schema, as input
            assert {e["extensions"]["code"] for e in body["errors"]} == {"INVALID_INPUT"}, body
            continue
        assert not body.get("errors"), (body.get("errors"), batch)
        check(gw, body["data"]["ingest"], len(batch))
