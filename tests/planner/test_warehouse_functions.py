"""The rule of planner.capabilities, checked live: every allowed function, planned for a measured
warehouse, is either refused at preview (WAREHOUSE_UNSUPPORTED, naming the warehouse) or runs
there. A wrong entry in a profile — a function said to run that fails, or a rewrite that does not
parse — fails here, on SQLite always and on PostgreSQL when configured."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from planner import PlannerError, PlanOptions, plan
from planner.capabilities import FUNCTIONS, FunctionSpec, functions_for, profile
from tests.planner import live

MEASURED = ("sqlite", "postgres")


@pytest.fixture(scope="module", params=MEASURED)
def warehouse(request: pytest.FixtureRequest) -> Iterator[tuple[str, live.Run]]:
    with live.warehouse(request.param) as run:
        yield request.param, run


def test_every_function_either_runs_or_is_refused_at_preview(warehouse: tuple[str, live.Run]) -> None:
    kind, run = warehouse
    catalog = live.catalog(kind)
    runs = set(functions_for(kind))
    failures: list[str] = []
    for spec in FUNCTIONS:
        outcome = _outcome(spec, kind, catalog, run)
        expected = "runs" if spec in runs else "refused"
        if outcome != expected:
            failures.append(f"{spec.key} ({spec.example}): {outcome}, table says {expected}")
    assert not failures, "\n".join(failures)


def _outcome(spec: FunctionSpec, kind: str, catalog: object, run: live.Run) -> str:
    try:
        planned = plan(f"SELECT {spec.example} AS v FROM probe", catalog,  # type: ignore[arg-type]
                       PlanOptions(warehouse_dialect=kind, dialect=spec.dialect))
    except PlannerError as e:
        if e.code == "WAREHOUSE_UNSUPPORTED":
            assert profile(kind).name in e.message and e.extensions["warehouse"] == kind
            return "refused"
        return f"refused with {e.code}: {e.message}"
    try:
        run(planned.sql)
    except Exception as e:
        return f"fails at the warehouse: {planned.sql} :: {str(e).splitlines()[0]}"
    return "runs"


@pytest.mark.parametrize("dialect", ["sqlite", "postgres", "duckdb", "mysql", "spark", "trino", "snowflake",
                                     "bigquery", "databricks", "redshift"])
def test_every_warehouse_has_a_profile_and_a_function_list(dialect: str) -> None:
    names = {f.name for f in functions_for(dialect)}
    assert {"COUNT", "SUM", "ROW_NUMBER", "COALESCE"} <= names
    assert profile(dialect).dialect in (dialect, "spark")
