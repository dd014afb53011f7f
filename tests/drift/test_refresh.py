"""refreshSchema on a real warehouse table altered for real: add, drop, rename, retype."""

from __future__ import annotations

import pytest

from tests.drift.conftest import REFRESH, Warehouse, by_type, refresh, sample
from tests.support.harness import Gateway

TABLE = "query($n: String!) { table(name: $n) { versions { version schemaVersion columns { name type } } } }"


async def test_nothing_changed_returns_a_compatible_report_and_stores_none(gw: Gateway) -> None:
    report = await refresh(gw)
    assert report["id"] is None and report["changes"] == []
    assert report["severity"] == "COMPATIBLE" and report["source"] == "REFRESH"
    assert report["toSchemaVersion"] == "1.0"
    assert "no changes" in report["migrationGuide"]
    stored = await gw.ok("{ driftReports { id } }", role="VIEWER")
    assert stored["driftReports"] == []


async def test_add_nullable_column_is_compatible_and_bumps_the_minor(gw: Gateway, warehouse: Warehouse) -> None:
    before = sample("spyne_drift_detected_total", contract_id="none", severity="COMPATIBLE")
    warehouse.run("ALTER TABLE customers ADD COLUMN segment TEXT")
    report = await refresh(gw)
    assert report["id"] is not None and report["severity"] == "COMPATIBLE"
    (change,) = report["changes"]
    assert change["type"] == "ADD" and change["column"] == "segment" and change["newType"] == "TEXT"
    assert (report["fromSchemaVersion"], report["toSchemaVersion"]) == ("1.0", "1.1")
    assert "minor" in report["versionRule"]
    table = (await gw.ok(TABLE, {"n": "customers"}))["table"]["versions"][0]
    assert table["schemaVersion"] == "1.1" and "segment" in {c["name"] for c in table["columns"]}
    assert sample("spyne_drift_detected_total", contract_id="none", severity="COMPATIBLE") == before + 1
    # The stored columns moved with the warehouse: the next refresh finds nothing.
    assert (await refresh(gw))["changes"] == []


async def test_drop_column_is_breaking_and_bumps_the_major(gw: Gateway, warehouse: Warehouse) -> None:
    warehouse.run("ALTER TABLE customers DROP COLUMN city")
    report = await refresh(gw)
    (change,) = report["changes"]
    assert change["type"] == "REMOVE" and change["column"] == "city" and change["severity"] == "BREAKING"
    assert report["severity"] == "BREAKING" and report["toSchemaVersion"] == "2.0"
    assert "major" in report["versionRule"]
    assert "city" in report["migrationGuide"] and "must change" in report["migrationGuide"]


async def test_rename_is_detected_with_confidence(gw: Gateway, warehouse: Warehouse) -> None:
    warehouse.run("ALTER TABLE customers RENAME COLUMN customer_name TO cust_name")
    report = await refresh(gw)
    (change,) = report["changes"]
    assert change["type"] == "RENAME" and change["severity"] == "BREAKING"
    assert (change["oldColumn"], change["newColumn"]) == ("customer_name", "cust_name")
    assert change["confidence"] >= 0.7
    assert "cust_name AS customer_name" in report["migrationGuide"]


async def test_rename_to_an_unlike_name_is_recognised_by_its_values(gw: Gateway, warehouse: Warehouse) -> None:
    await refresh(gw)  # takes the value baseline the next refresh compares with
    warehouse.run("ALTER TABLE customers RENAME COLUMN email TO contact")
    report = await refresh(gw)
    (change,) = report["changes"]
    assert change["type"] == "RENAME" and (change["oldColumn"], change["newColumn"]) == ("email", "contact")
    assert "values overlap 1.00" in change["reason"]


async def test_rename_to_an_unlike_name_without_a_baseline_stays_remove_and_add(gw: Gateway,
                                                                              warehouse: Warehouse) -> None:
    warehouse.run("ALTER TABLE customers RENAME COLUMN email TO contact")
    report = await refresh(gw)
    assert {c["type"] for c in report["changes"]} == {"REMOVE", "ADD"}


async def test_narrowing_the_data_fits_is_a_measured_warning(gw: Gateway, warehouse: Warehouse) -> None:
    warehouse.retype("customers", "email", "VARCHAR(100)")
    report = await refresh(gw)
    change = by_type(report)["TYPE_CHANGE"]
    assert change["column"] == "email" and change["newType"] == "VARCHAR(100)"
    assert change["severity"] == "WARNING" and not change["undecided"]
    assert "the data still fits" in change["reason"]
    assert report["toSchemaVersion"] == "1.1"


# SQLite only: PostgreSQL refuses an ALTER that would cut data, so there the promotion gate tests it.
@pytest.mark.parametrize("catalog_url", ["sqlite"], indirect=True)
async def test_narrowing_beyond_the_data_is_breaking(gw: Gateway, warehouse: Warehouse) -> None:
    warehouse.retype("customers", "code", "VARCHAR(3)")  # SQLite keeps the longer values as they are
    report = await refresh(gw)
    change = by_type(report)["TYPE_CHANGE"]
    assert change["severity"] == "BREAKING" and not change["undecided"]
    assert "more than 3" in change["reason"]


async def test_widening_is_compatible(gw: Gateway, warehouse: Warehouse) -> None:
    warehouse.retype("customers", "age", "BIGINT")
    report = await refresh(gw)
    (change,) = report["changes"]
    assert change["type"] == "TYPE_CHANGE" and change["severity"] == "COMPATIBLE"
    assert (change["oldType"], change["newType"]) == ("INT", "BIGINT")


async def test_refresh_is_audited_and_needs_an_engineer(gw: Gateway, warehouse: Warehouse) -> None:
    warehouse.run("ALTER TABLE customers ADD COLUMN segment TEXT")
    assert await gw.error_code(REFRESH, {"t": "customers"}, role="ANALYST") == "FORBIDDEN"
    report = await refresh(gw)
    log = await gw.ok("{ auditLog(first: 20) { events { action entityType entityId after } } }")
    actions = {(e["action"], e["entityType"], e["entityId"]) for e in log["auditLog"]["events"]}
    assert ("refreshSchema", "table", "customers") in actions
    assert ("detectDrift", "drift_report", report["id"]) in actions


async def test_unknown_table_is_table_not_found(gw: Gateway) -> None:
    assert await gw.error_code(REFRESH, {"t": "nope"}, role="ENGINEER") == "TABLE_NOT_FOUND"
