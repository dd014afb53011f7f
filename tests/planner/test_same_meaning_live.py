"""Same meaning on every warehouse, run for real: each case of fixtures/semantics.sql is planned for
its warehouse and run there, and the same SQL is run natively in the analyst's dialect on that
dialect's own warehouse. ``expect: same`` cases must answer alike; ``expect: assumption`` cases
differ by design and the preview must say so in its assumptions."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from planner import PlannerError, PlanOptions, plan
from tests.planner import golden, live

CASES = golden.load(golden.FIXTURES / "semantics.sql")


@pytest.fixture(scope="module")
def warehouses() -> Iterator[dict[str, live.Run]]:
    with live.warehouse("sqlite") as sqlite_run, live.warehouse("postgres") as pg_run:
        yield {"sqlite": sqlite_run, "postgres": pg_run}


def _normal(value: Any) -> Any:
    if isinstance(value, bool):
        return f"bool:{value}"  # True == 1 in Python; a boolean and a number are different answers
    if isinstance(value, int | float | Decimal):
        return round(float(value), 9)
    if isinstance(value, datetime.datetime) and value.time() == datetime.time():
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _rows(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return [tuple(_normal(v) for v in row) for row in rows]


@pytest.mark.parametrize("case", CASES, ids=[c.title for c in CASES])
def test_the_warehouse_answers_as_the_analysts_dialect(case: golden.Case, warehouses: dict[str, live.Run]) -> None:
    warehouse, analyst = case.headers.get("warehouse", "sqlite"), case.headers["dialect"]
    planned = plan(case.sql, case.catalog(), case.options())
    got = _rows(warehouses[warehouse](planned.sql))
    native_plan = plan(case.sql, live.catalog(analyst), PlanOptions(warehouse_dialect=analyst))
    try:
        native: list[tuple[Any, ...]] | str = _rows(warehouses[analyst](native_plan.sql))
    except Exception as e:
        native = f"error: {e}"
    if case.headers["expect"] == "same":
        assert got == native, f"{planned.sql}\n{native_plan.sql}"
    else:
        assert got != native
        assert any(warehouse_name in a for a in planned.assumptions
                   for warehouse_name in ("SQLite", "PostgreSQL")), planned.assumptions


def test_the_issues_silent_wrong_answer_is_gone(warehouses: dict[str, live.Run]) -> None:
    sql = "SELECT ROUND(SUM(qty) / COALESCE(MAX(extra) + 1, 1), 2) AS r FROM lines"
    through_sqlite = plan(sql, live.catalog("sqlite"), PlanOptions(warehouse_dialect="sqlite", dialect="postgres"))
    on_postgres = plan(sql, live.catalog("postgres"), PlanOptions(warehouse_dialect="postgres"))
    assert _rows(warehouses["sqlite"](through_sqlite.sql)) == _rows(warehouses["postgres"](on_postgres.sql)) \
        == [(5.5,)]


def test_timestamp_differences_are_refused_on_sqlite() -> None:
    with pytest.raises(PlannerError) as caught:
        plan("SELECT CAST(day AS TIMESTAMP) - CAST(day AS DATE) FROM lines", live.catalog("sqlite"),
             PlanOptions(warehouse_dialect="sqlite", dialect="postgres"))
    assert caught.value.code == "WAREHOUSE_UNSUPPORTED"
