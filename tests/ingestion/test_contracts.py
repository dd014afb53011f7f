"""Contract validation, mode rules, and what VIEWER/ANALYST see of ingestion."""

from __future__ import annotations

from tests.ingestion.conftest import EVENTS_CONTRACT, contract_input, register
from tests.support.harness import Gateway

FIELDS = """query { __schema { queryType { fields { name } } mutationType { fields { name } } } }"""


async def _problems(gw: Gateway, data: dict) -> list[str]:  # type: ignore[type-arg]
    body = await gw.gql(EVENTS_CONTRACT, {"input": data}, role="ENGINEER")
    assert body["errors"][0]["extensions"]["code"] == "INVALID_CONTRACT", body
    problems: list[str] = body["errors"][0]["extensions"]["problems"]
    return problems


async def test_every_semantic_problem_is_reported(gw: Gateway) -> None:
    data = contract_input(mode="upsert", window="soon")
    data["ingestionSemantics"].update(idempotencyKey=["id", "nope"], eventTimeColumn="kind")
    data["ingestionSemantics"].pop("conflictResolution")
    problems = await _problems(gw, data)
    text = " ".join(problems)
    assert "'nope' is not in the schema" in text
    assert "eventTimeColumn 'kind' is TEXT, not a timestamp" in text
    assert "dedupeWindow 'soon' does not parse" in text
    assert "conflictResolution is missing" in text
    assert len(problems) == 4


async def test_upsert_without_key_and_missing_semantics(gw: Gateway) -> None:
    data = contract_input()
    data["ingestionSemantics"]["idempotencyKey"] = []
    assert any("upsert needs a key" in p for p in await _problems(gw, data))
    data = contract_input()
    data.pop("ingestionSemantics")
    problems = await _problems(gw, data)
    assert any("mode is missing" in p for p in problems) and len(problems) >= 5


async def test_processing_time_default_refused_unless_unsafe(gw: Gateway) -> None:
    data = contract_input()
    data["columns"].append({"name": "booked_on", "type": "TIMESTAMP", "default": "NOW()"})
    assert any("booked_on" in p and "unsafeAllowProcessingTime" in p for p in await _problems(gw, data))
    data["unsafeAllowProcessingTime"] = True
    contract = (await gw.ok(EVENTS_CONTRACT, {"input": data}, role="ENGINEER"))["registerContract"]
    assert contract["warnings"] and "booked_on" in contract["warnings"][0]
    listed = await gw.ok("query { contract(id: \"events\") { warnings versions { warnings } } }", role="ENGINEER")
    assert listed["contract"]["warnings"] == contract["warnings"]
    assert listed["contract"]["versions"][0]["warnings"] == contract["warnings"]


async def test_contract_versions_follow_table_versions(gw: Gateway) -> None:
    await register(gw)
    second = await register(gw)
    assert second["version"] == 2 and [v["version"] for v in second["versions"]] == [1, 2]
    assert second["versions"][1]["physicalName"].endswith("events__v2")


async def test_read_only_mode_refuses_and_hides(gw: Gateway) -> None:
    await register(gw)
    await gw.ok("mutation { setSystemMode(mode: READ_ONLY) }")
    assert await gw.error_code(EVENTS_CONTRACT, {"input": contract_input("other")}, role="ENGINEER") == "MODE_DISABLED"
    for role in ("VIEWER", "ANALYST"):
        data = await gw.ok(FIELDS, role=role)
        mutations = {f["name"] for f in data["__schema"]["mutationType"]["fields"]}
        queries = {f["name"] for f in data["__schema"]["queryType"]["fields"]}
        assert not mutations & {"registerContract", "ingest", "replay", "backfill", "confirmOperation"}
        assert not queries & {"ingestionRuns", "quarantine"}
        assert {"contracts", "contract", "tables"} <= queries
        hidden = await gw.gql('query { __type(name: "IngestionResult") { name } }', role=role)
        assert hidden["data"]["__type"] is None
    engineer = await gw.ok(FIELDS, role="ENGINEER")
    assert "registerContract" in {f["name"] for f in engineer["__schema"]["mutationType"]["fields"]}
    await gw.ok("mutation { setSystemMode(mode: INGESTION_READY) }")
    viewer = await gw.ok(FIELDS, role="VIEWER")
    assert "ingest" in {f["name"] for f in viewer["__schema"]["mutationType"]["fields"]}


async def test_viewers_do_not_see_shadow_contracts(gw: Gateway) -> None:
    await register(gw)
    assert (await gw.ok("query { contracts { id } }", role="VIEWER"))["contracts"] == []
    assert await gw.error_code('query { contract(id: "events") { id } }', role="VIEWER") == "INVALID_INPUT"
    assert await gw.error_code("mutation { ingest(contractId: \"events\", records: []) { runId } }",
                               role="ANALYST") == "FORBIDDEN"


async def test_freshness_and_sla(gw: Gateway) -> None:
    await register(gw, sla={"maxLagSeconds": 3600, "alertThresholdSeconds": 600})
    await gw.ok("""mutation { ingest(contractId: "events", records: [
        {id: 1, happened_at: "2020-01-01T00:00:00+02:00"}]) { accepted } }""", role="ENGINEER")
    data = await gw.ok("query { contract(id: \"events\") { freshness { newestEventTime lagSeconds status breached }"
                       " sla { maxLagSeconds } } }", role="ENGINEER")
    fresh = data["contract"]["freshness"]
    assert fresh["status"] == "BREACHED" and fresh["breached"] and fresh["lagSeconds"] > 3600
    assert fresh["newestEventTime"].startswith("2019-12-31T22:00:00")
