"""driftReports filters, resolveDrift, compatibility dry runs and contractDiff, through GraphQL."""

from __future__ import annotations

from typing import Any

from tests.drift.conftest import REPORTS, Warehouse, refresh, sample
from tests.support.harness import Gateway

RESOLVE = """mutation($id: ID!, $note: String) { resolveDrift(reportId: $id, note: $note) {
  id resolved resolvedBy resolvedAt note } }"""
CHECK_TABLE = """query($t: String!, $cols: [ProposedColumnInput!]!) { checkTableCompatibility(table: $t, columns: $cols) {
  compatible severity nextVersion versionRule migrationGuide versions { version severity }
  changes { type column severity againstVersion } } }"""
CHECK_CONTRACT = """query($c: String!, $cols: [ProposedColumnInput!]!) { checkCompatibility(contractId: $c, columns: $cols) {
  compatible severity nextVersion versionRule changes { type column newColumn severity againstVersion } } }"""
DIFF = """query($c: String!, $f: Int!, $t: Int!) { contractDiff(contractId: $c, fromVersion: $f, toVersion: $t) {
  contractId fromVersion toVersion severity migrationGuide nextVersion versionRule
  changes { type column oldColumn newColumn oldType newType severity } } }"""
CONTRACT = """mutation($input: RegisterContractInput!) { registerContract(input: $input) { id } }"""
CUSTOMER_COLUMNS = [{"name": n, "type": t} for n, t in (
    ("id", "INTEGER"), ("customer_name", "TEXT"), ("email", "TEXT"), ("age", "INTEGER"),
    ("city", "TEXT"), ("code", "TEXT"))]


async def two_reports(gw: Gateway, wh: Warehouse) -> tuple[dict[str, Any], dict[str, Any]]:
    wh.run("ALTER TABLE customers ADD COLUMN segment TEXT")
    added = await refresh(gw)
    wh.run("ALTER TABLE customers DROP COLUMN city")
    dropped = await refresh(gw)
    return added, dropped


async def test_reports_filter_by_table_severity_and_resolution(gw: Gateway, warehouse: Warehouse) -> None:
    added, dropped = await two_reports(gw, warehouse)
    everything = (await gw.ok(REPORTS, {}, role="VIEWER"))["driftReports"]
    assert [r["id"] for r in everything] == [dropped["id"], added["id"]]  # newest first
    breaking = (await gw.ok(REPORTS, {"s": "BREAKING"}, role="VIEWER"))["driftReports"]
    assert [r["id"] for r in breaking] == [dropped["id"]]
    assert (await gw.ok(REPORTS, {"t": "orders"}, role="VIEWER"))["driftReports"] == []
    assert (await gw.ok(REPORTS, {"c": "customers"}, role="VIEWER"))["driftReports"] == []
    before = sample("spyne_drift_resolved_total", contract_id="none")
    resolved = (await gw.ok(RESOLVE, {"id": dropped["id"], "note": "readers moved off city"}))["resolveDrift"]
    assert resolved["resolved"] is True and resolved["resolvedBy"] == "admin@example.com"
    assert resolved["note"] == "readers moved off city" and resolved["resolvedAt"]
    assert sample("spyne_drift_resolved_total", contract_id="none") == before + 1
    open_only = (await gw.ok(REPORTS, {"u": True}, role="VIEWER"))["driftReports"]
    assert [r["id"] for r in open_only] == [added["id"]]
    log = await gw.ok('{ auditLog(entity: "drift_report") { events { action entityId after } } }')
    assert ("resolveDrift", dropped["id"]) in {(e["action"], e["entityId"]) for e in log["auditLog"]["events"]}


async def test_resolve_is_for_admins_once(gw: Gateway, warehouse: Warehouse) -> None:
    _, dropped = await two_reports(gw, warehouse)
    assert await gw.error_code(RESOLVE, {"id": dropped["id"]}, role="ENGINEER") == "FORBIDDEN"
    await gw.ok(RESOLVE, {"id": dropped["id"]})
    assert await gw.error_code(RESOLVE, {"id": dropped["id"]}) == "CONFLICT"
    assert await gw.error_code(RESOLVE, {"id": "999999"}) == "INVALID_INPUT"
    assert await gw.error_code(RESOLVE, {"id": "x"}) == "INVALID_INPUT"


async def test_table_compatibility_is_a_dry_run(gw: Gateway) -> None:
    proposed = [c for c in CUSTOMER_COLUMNS if c["name"] != "code"] + [{"name": "segment", "type": "TEXT"}]
    result = (await gw.ok(CHECK_TABLE, {"t": "customers", "cols": proposed}, role="ENGINEER"))[
        "checkTableCompatibility"]
    assert result["compatible"] is False and result["severity"] == "BREAKING"
    assert {(c["type"], c["column"], c["severity"]) for c in result["changes"]} >= {
        ("REMOVE", "code", "BREAKING"), ("ADD", "segment", "COMPATIBLE")}
    assert result["versions"] == [{"version": "v1", "severity": "BREAKING"}]
    assert result["nextVersion"] == "2.0" and "major" in result["versionRule"]
    assert (await gw.ok(REPORTS, {}))["driftReports"] == []  # stored nothing
    assert await gw.error_code(CHECK_TABLE, {"t": "customers", "cols": proposed}, role="ANALYST") == "FORBIDDEN"


async def test_contracts_check_diff_and_report(gw: Gateway) -> None:
    await gw.ok('mutation { setSystemMode(mode: INGESTION_READY) }')
    columns = [{"name": "id", "type": "BIGINT", "nullable": False}, {"name": "kind", "type": "TEXT"},
               {"name": "happened_at", "type": "TIMESTAMP", "nullable": False},
               {"name": "loaded_at", "type": "TIMESTAMP"}]
    semantics = {"mode": "append", "idempotencyKey": ["id"], "eventTimeColumn": "happened_at",
                 "processingTimeColumn": "loaded_at", "dedupeWindow": "24h", "conflictResolution": "latest_wins"}
    await gw.ok(CONTRACT, {"input": {"table": "events", "columns": columns, "ingestionSemantics": semantics}},
                role="ENGINEER")
    proposed = [columns[0], {"name": "kind_name", "type": "TEXT"}, columns[2], columns[3],
                {"name": "amount", "type": "DOUBLE"}]
    check = (await gw.ok(CHECK_CONTRACT, {"c": "events", "cols": proposed}, role="ENGINEER"))[
        "checkCompatibility"]
    assert check["compatible"] is False
    assert ("RENAME", "kind", "kind_name") in {(c["type"], c["column"], c["newColumn"]) for c in check["changes"]}
    await gw.ok(CONTRACT, {"input": {"table": "events", "columns": proposed, "ingestionSemantics": semantics}},
                role="ENGINEER")
    diff = (await gw.ok(DIFF, {"c": "events", "f": 1, "t": 2}, role="ENGINEER"))["contractDiff"]
    assert diff["severity"] == "BREAKING" and diff["nextVersion"].startswith("2.0")
    kinds = {(c["type"], c["column"], c["severity"]) for c in diff["changes"]}
    assert ("RENAME", "kind", "BREAKING") in kinds and ("ADD", "amount", "COMPATIBLE") in kinds
    assert "kind_name AS kind" in diff["migrationGuide"]
    # Both versions are SHADOW: a viewer cannot diff what it may not see.
    assert await gw.error_code(DIFF, {"c": "events", "f": 1, "t": 2}, role="VIEWER") == "INVALID_INPUT"
    assert await gw.error_code(DIFF, {"c": "events", "f": 1, "t": 9}, role="ENGINEER") == "INVALID_INPUT"
    # Registering v2 stored its drift against v1, and numbered v2 by the bump rule.
    (report,) = (await gw.ok(REPORTS, {"c": "events"}, role="ENGINEER"))["driftReports"]
    assert (report["source"], report["severity"], report["fromVersion"], report["toVersion"]) == (
        "CONTRACT", "BREAKING", 1, 2)
    assert (report["fromSchemaVersion"], report["toSchemaVersion"]) == ("1.0", "2.0")
    assert (await gw.ok(REPORTS, {"c": "events"}, role="VIEWER"))["driftReports"] == []
    await gw.ok(CONTRACT, {"input": {"table": "events", "columns": [*proposed, {"name": "note", "type": "TEXT"}],
                                     "ingestionSemantics": semantics}}, role="ENGINEER")
    versions = await gw.ok('{ table(name: "events") { versions { version schemaVersion } } }', role="ENGINEER")
    assert [v["schemaVersion"] for v in versions["table"]["versions"]] == ["1.0", "2.0", "2.1"]
