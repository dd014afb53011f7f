"""A BOOLEAN met by a number is refused on PostgreSQL and Trino even when no table the query reads
has a boolean column: the boolean then comes from a CAST or a condition (same_meaning skips
typing the columns in that case, and must still find these)."""

from __future__ import annotations

import pytest

from planner import PlanOptions, WarehouseUnsupported, plan
from tests.planner.catalogs import shop_catalog

SHOP = shop_catalog()  # no boolean column


@pytest.mark.parametrize(("warehouse", "sql"), [
    ("postgres", "SELECT CAST(c_id AS BOOLEAN) = 1 FROM customers"),
    ("postgres", "SELECT SUM(CAST(c_id AS BOOLEAN)) FROM customers"),
    ("trino", "SELECT MAX(CAST(c_id AS BOOLEAN)) = 0 FROM customers"),
    ("trino", "SELECT SUM(c_id > 1) = 1 FROM customers"),
])
def test_boolean_without_boolean_columns_is_still_refused(warehouse: str, sql: str) -> None:
    with pytest.raises(WarehouseUnsupported, match="is a boolean"):
        plan(sql, SHOP, PlanOptions(warehouse_dialect=warehouse))


def test_number_compared_with_a_non_boolean_column_plans() -> None:
    assert plan("SELECT c_id FROM customers WHERE c_id = 1", SHOP, PlanOptions(warehouse_dialect="postgres")).sql
