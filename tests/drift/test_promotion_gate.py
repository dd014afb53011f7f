"""The promotion gate: a SHADOW version against the versions in use, on real warehouse tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from gateway.domain import TableState
from gateway.records import VersionRecord
from tests.drift.conftest import REPORTS, Warehouse
from tests.support.harness import Gateway

PROMOTE = """mutation($v: Int!, $d: Boolean! = false, $a: Boolean! = false) {
  promoteTable(table: "customers", version: $v, dryRun: $d, acknowledgeWarnings: $a) {
    dryRun message warnings changes { version fromState toState } } }"""
COLUMNS = {"id": "INTEGER PRIMARY KEY", "customer_name": "TEXT NOT NULL", "email": "TEXT",
           "age": "INTEGER", "city": "TEXT", "code": "TEXT"}


async def add_shadow(gw: Gateway, wh: Warehouse, schema_version: str, *, drop: tuple[str, ...] = (),
                     retype: dict[str, str] | None = None, rename: dict[str, str] | None = None,
                     add: dict[str, str] | None = None, values: dict[str, str] | None = None) -> None:
    """customers v2 as SHADOW: a real table holding v1's rows in the changed shape."""
    retype, rename, add, values = retype or {}, rename or {}, add or {}, values or {}
    kept = [c for c in COLUMNS if c not in drop]
    defs = [f"{rename.get(c, c)} {retype.get(c, COLUMNS[c])}" for c in kept]
    defs += [f"{name} {typ}" for name, typ in add.items()]
    wh.run(f"CREATE TABLE customers_v2 ({', '.join(defs)})",
           f"INSERT INTO customers_v2 ({', '.join(rename.get(c, c) for c in kept)}) "
           f"SELECT {', '.join(values.get(c, c) for c in kept)} FROM customers")
    found = await gw.services.deps.warehouse.introspect("customers_v2")
    now = datetime.now(UTC)
    async with gw.services.deps.uow() as uow:
        await uow.tables.add_version(VersionRecord(
            table="customers", version=2, state=TableState.SHADOW, physical_name="customers_v2",
            columns=found.columns, row_count=found.row_count, owner="engineer@example.com",
            supersedes=1, schema_version=schema_version, created_at=now, updated_at=now,
            deprecated_at=None))
        await uow.system.bump_epoch()
        await uow.commit()


async def promote(gw: Gateway, *, dry_run: bool = False, ack: bool = False) -> dict[str, Any]:
    return (await gw.ok(PROMOTE, {"v": 2, "d": dry_run, "a": ack}))["promoteTable"]


async def refusal(gw: Gateway, **kw: bool) -> dict[str, Any]:
    body = await gw.gql(PROMOTE, {"v": 2, "d": kw.get("dry_run", False), "a": kw.get("ack", False)})
    assert body.get("errors"), body
    error: dict[str, Any] = body["errors"][0]
    return error


async def test_breaking_shadow_without_a_new_major_is_refused(gw: Gateway, warehouse: Warehouse) -> None:
    await add_shadow(gw, warehouse, "1.1", drop=("city",))
    error = await refusal(gw)
    assert error["extensions"]["code"] == "DRIFT_BREAKING"
    assert "REMOVE city" in error["message"] and "new major" in error["message"]
    (change,) = error["extensions"]["changes"]
    assert (change["type"], change["column"], change["severity"]) == ("REMOVE", "city", "BREAKING")
    assert change["againstVersion"] == "v1"
    # Refused, and refused again, even as a dry run: one stored PROMOTION report.
    assert (await refusal(gw, dry_run=True))["extensions"]["code"] == "DRIFT_BREAKING"
    reports = (await gw.ok(REPORTS, {"t": "customers"}, role="ENGINEER"))["driftReports"]
    assert [(r["source"], r["severity"], r["fromVersion"], r["toVersion"]) for r in reports] == [
        ("PROMOTION", "BREAKING", 1, 2)]
    assert reports[0]["id"] == error["extensions"]["reportId"]
    # A viewer may not learn of the SHADOW version through its report.
    assert (await gw.ok(REPORTS, {"t": "customers"}, role="VIEWER"))["driftReports"] == []
    table = await gw.ok('{ table(name: "customers") { versions { version state } } }')
    assert {v["version"]: v["state"] for v in table["table"]["versions"]} == {1: "READ_ONLY", 2: "SHADOW"}


async def test_breaking_shadow_with_a_new_major_is_promoted(gw: Gateway, warehouse: Warehouse) -> None:
    await add_shadow(gw, warehouse, "2.0", drop=("city",))
    result = await promote(gw)
    assert [c["toState"] for c in result["changes"]] == ["ACTIVE"]
    assert any("BREAKING" in w and "city" in w for w in result["warnings"])
    # Now ACTIVE, the version and its report are everyone's to see.
    reports = (await gw.ok(REPORTS, {"t": "customers"}, role="VIEWER"))["driftReports"]
    assert [r["toSchemaVersion"] for r in reports] == ["2.0"]


async def test_narrowing_beyond_the_old_data_is_refused(gw: Gateway, warehouse: Warehouse) -> None:
    await add_shadow(gw, warehouse, "1.1", retype={"code": "VARCHAR(10)", "email": "VARCHAR(10)"},
                     values={"email": "SUBSTR(email, 1, 10)"})
    error = await refusal(gw)
    assert error["extensions"]["code"] == "DRIFT_BREAKING"
    (change,) = error["extensions"]["changes"]
    assert change["column"] == "email" and change["undecided"] is False
    assert "more than 10" in change["reason"]


async def test_a_warning_needs_acknowledgement(gw: Gateway, warehouse: Warehouse) -> None:
    await add_shadow(gw, warehouse, "1.1", retype={"email": "VARCHAR(100)"})
    error = await refusal(gw)
    assert error["extensions"]["code"] == "INVALID_INPUT"
    assert error["extensions"]["argument"] == "acknowledgeWarnings"
    assert [c["severity"] for c in error["extensions"]["changes"]] == ["WARNING"]
    preview = await promote(gw, dry_run=True, ack=True)
    assert preview["dryRun"] is True and len(preview["warnings"]) == 1
    assert "email" in preview["warnings"][0] and "fits" in preview["warnings"][0]
    result = await promote(gw, ack=True)
    assert result["dryRun"] is False and result["warnings"] == preview["warnings"]


async def test_compatible_shadow_needs_nothing(gw: Gateway, warehouse: Warehouse) -> None:
    await add_shadow(gw, warehouse, "1.1", add={"segment": "TEXT"}, retype={"age": "BIGINT"})
    result = await promote(gw)
    assert result["warnings"] == [] and result["changes"][0]["toState"] == "ACTIVE"
    (report,) = (await gw.ok(REPORTS, {"t": "customers"}))["driftReports"]
    assert report["severity"] == "COMPATIBLE"
    assert {c["type"] for c in report["changes"]} == {"ADD", "TYPE_CHANGE"}


async def test_rename_across_versions_is_recognised_by_values(gw: Gateway, warehouse: Warehouse) -> None:
    await add_shadow(gw, warehouse, "2.0", rename={"email": "contact"})
    result = await promote(gw, dry_run=True)
    (warning,) = result["warnings"]
    assert "email is now called contact" in warning and "values overlap 1.00" in warning


async def test_every_version_in_use_is_checked(gw: Gateway, warehouse: Warehouse) -> None:
    """v1 READ_ONLY (1.0), v2 ACTIVE without `city` (2.0), v3 SHADOW (2.1) also without `code`:
    a new major for v1's readers, but a breaking minor step for v2's — refused, naming v2."""
    await add_shadow(gw, warehouse, "2.0", drop=("city",))
    await promote(gw)
    warehouse.run("CREATE TABLE customers_v3 AS SELECT id, customer_name, email, age FROM customers_v2")
    found = await gw.services.deps.warehouse.introspect("customers_v3")
    now = datetime.now(UTC)
    async with gw.services.deps.uow() as uow:
        await uow.tables.add_version(VersionRecord(
            table="customers", version=3, state=TableState.SHADOW, physical_name="customers_v3",
            columns=found.columns, row_count=found.row_count, owner=None, supersedes=2,
            schema_version="2.1", created_at=now, updated_at=now, deprecated_at=None))
        await uow.commit()
    body = await gw.gql(PROMOTE, {"v": 3})
    error = body["errors"][0]
    assert error["extensions"]["code"] == "DRIFT_BREAKING"
    assert "breaks readers of v2 (2.0)" in error["message"] and "v1 (1.0)" not in error["message"]
    assert {(c["column"], c["againstVersion"]) for c in error["extensions"]["changes"]} == {("code", "v2")}
    (report, _) = (await gw.ok(REPORTS, {"t": "customers"}))["driftReports"]
    against = {(c["type"], c["column"], c["againstVersion"]) for c in report["changes"]}
    assert {("REMOVE", "city", "v1"), ("REMOVE", "code", "v1"), ("REMOVE", "code", "v2")} <= against
