"""with_row_cap: a plan's warehouse SQL under a download's own row cap, the analyst's LIMIT kept."""

from __future__ import annotations

import pytest

from planner import PlanOptions, plan, with_row_cap
from tests.planner.catalogs import shop_catalog

SHOP = shop_catalog()


def _capped(sql: str, warehouse: str = "postgres", max_rows: int = 100) -> str:
    planned = plan(sql, SHOP, PlanOptions(warehouse_dialect=warehouse, max_rows=max_rows))
    return with_row_cap(planned, 1_000_000)


@pytest.mark.parametrize("warehouse", ["postgres", "sqlite", "duckdb"])
def test_the_planner_cap_becomes_the_download_cap(warehouse: str) -> None:
    sql = _capped("SELECT c_id, country FROM customers", warehouse)
    assert sql.endswith("LIMIT 1000001") and "LIMIT 101" not in sql


def test_an_analyst_limit_below_the_interactive_cap_is_kept() -> None:
    assert _capped("SELECT c_id FROM customers LIMIT 7").endswith("LIMIT 7")


def test_an_analyst_limit_above_the_interactive_cap_comes_back() -> None:
    assert _capped("SELECT c_id FROM customers ORDER BY c_id LIMIT 5000").endswith("LIMIT 5000")
    assert _capped("SELECT c_id FROM customers LIMIT 5000000").endswith("LIMIT 1000001")


def test_a_wrapped_query_is_recapped_outside() -> None:
    sql = _capped("SELECT c_id FROM customers UNION ALL SELECT c_id FROM customers")
    assert sql.endswith("LIMIT 1000001") and "101" not in sql
