"""Golden SQL files: SQL in, warehouse SQL and guardrails out; refusals with their error code.

Regenerate expected output with ``SPYNE_UPDATE_GOLDEN=1 .venv/bin/pytest tests/planner/test_golden.py``
and review the diff by eye: a golden file is a claim that the output is right.
"""

from __future__ import annotations

import pytest

from planner import WAREHOUSE_DIALECTS, PlannerError, plan
from tests.planner import golden

VALID = golden.all_cases(invalid=False)
INVALID = golden.all_cases(invalid=True)


def _guardrails(case: golden.Case) -> str:
    p = plan(case.sql, case.catalog(), case.options())
    return ", ".join(g.type for g in p.guardrails) or "none"


@pytest.mark.parametrize("case", VALID, ids=[c.id for c in VALID])
def test_golden_plan(case: golden.Case) -> None:
    p = plan(case.sql, case.catalog(), case.options())
    guardrails = ", ".join(g.type for g in p.guardrails) or "none"
    if golden.UPDATE:
        cases = golden.load(case.file)
        for c in cases:
            if c.title == case.title:
                c.expected, c.headers["guardrails"] = p.sql, guardrails
        golden.save(case.file, cases)
        return
    assert p.sql == case.expected
    assert guardrails == case.headers.get("guardrails", "none")


@pytest.mark.parametrize("case", INVALID, ids=[c.id for c in INVALID])
def test_golden_refusal(case: golden.Case) -> None:
    with pytest.raises(PlannerError) as caught:
        plan(case.sql, case.catalog(), case.options())
    error = caught.value
    assert error.code == case.headers["error"], error.message
    assert error.message
    ext = error.extensions
    if "range" in case.headers:
        assert f"{ext['line']}:{ext['column']}-{ext['endLine']}:{ext['endColumn']}" == case.headers["range"]
    if "fixes" in case.headers:
        assert ", ".join(f.replacement for f in error.fixes) == case.headers["fixes"]


def test_there_are_enough_golden_cases() -> None:
    assert len(VALID) + len(INVALID) >= 150
    covered = {c.headers.get("warehouse", "sqlite") for c in VALID}
    assert covered <= set(WAREHOUSE_DIALECTS)
    assert {"sqlite", "postgres", "duckdb", "spark", "trino", "snowflake", "bigquery", "databricks",
            "redshift"} <= covered
