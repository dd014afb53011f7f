"""Property tests: on any text, plan() returns a Plan or raises a PlannerError — nothing else —
and the SQL it emits names no table outside the resolved set (or the query's own CTEs).
"""

from __future__ import annotations

import sqlglot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from planner import PlannerError, PlanOptions, TableNotFound, plan
from tests.planner.catalogs import shop_catalog, tpch_queries
from tests.planner.golden import all_cases

CATALOG = shop_catalog()
PHYSICAL = ("orders__v2", "spyne_shadow.orders__v3", "orders", "warehouse.products", "legacy_events",
            "spyne_shadow.drafts__v1", "events_2024")
NAMES = ("orders", "customers", "order_items", "products", "events", "legacy", "drafts", "regions",
         *PHYSICAL, '"orders__v2"', "main.customers", "ORDERS", '"Orders"')
COLUMNS = ("o_id", "amount", "status", "c_id", "name", "country", "quantity", "price", "*", "1", "NULL")
TOKENS = (";", "DELETE FROM customers", "(", ")", "'", '"', "--", "/*", "*/", " UNION SELECT 1", "WITH x AS (",
          "pg_read_file('/etc/passwd')", "FOR UPDATE", "INTO t", ",", " JOIN ", " ON ", "SELECT", "FROM",
          "WHERE", "ATTACH 'x' AS y", "PRAGMA", "$$", "::", "INTERVAL '1' DAY", "LIMIT", "-1", "\\", "\x00",
          *NAMES)
SEEDS = [sql for _, sql in tpch_queries()] + [c.sql for c in all_cases(False) + all_cases(True)]
OPTIONS = st.builds(PlanOptions, warehouse_dialect=st.sampled_from(("sqlite", "postgres", "duckdb")),
                    dialect=st.sampled_from((None, "postgres", "sqlite", "duckdb", "mysql")),
                    may_view_shadow=st.booleans(), max_rows=st.integers(1, 100_000))


@st.composite
def generated_sql(draw: st.DrawFn) -> str:
    tables = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=3))
    columns = draw(st.lists(st.sampled_from(COLUMNS), min_size=1, max_size=4))
    sql = f"SELECT {', '.join(columns)} FROM {tables[0]}"
    for t in tables[1:]:
        sql += draw(st.sampled_from((f", {t}", f" JOIN {t} ON 1 = 1", f" LEFT JOIN {t} USING (o_id)")))
    if draw(st.booleans()):
        sql += f" WHERE {draw(st.sampled_from(COLUMNS))} = {draw(st.sampled_from(COLUMNS))}"
    if draw(st.booleans()):
        cte = draw(st.sampled_from(NAMES))
        sql = f"WITH {cte} AS (SELECT {draw(st.sampled_from(COLUMNS))} FROM {draw(st.sampled_from(NAMES))}) {sql}"
    if draw(st.booleans()):
        sql += f" LIMIT {draw(st.integers(-5, 10**9))}"
    return sql


@st.composite
def mutated_sql(draw: st.DrawFn) -> str:
    sql = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(sql)))
        action = draw(st.sampled_from(("insert", "delete", "replace")))
        token = draw(st.one_of(st.sampled_from(TOKENS), st.text(max_size=3)))
        end = min(len(sql), at + draw(st.integers(0, 12)))
        if action == "insert":
            sql = sql[:at] + " " + token + " " + sql[at:]
        elif action == "delete":
            sql = sql[:at] + sql[end:]
        else:
            sql = sql[:at] + token + sql[end:]
    return sql


def _check(sql: str, options: PlanOptions) -> None:
    try:
        planned = plan(sql, CATALOG, options)
    except TableNotFound as e:
        # Only what the caller typed is repeated: no other physical name appears.
        assert not any(p.split(".")[-1] in e.message.lower() and p.split(".")[-1] not in sql.lower()
                       for p in PHYSICAL if p.split(".")[-1] not in CATALOG.tables)  # a logical name too
        return
    except PlannerError as e:
        assert e.code and e.message
        return
    tree = sqlglot.parse_one(planned.sql, read=options.warehouse_dialect)
    resolved = {t.physical_name.lower() for t in planned.tables}
    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    for table in tree.find_all(exp.Table):
        name = ".".join(p.name for p in table.parts).lower()
        assert name in resolved or (not table.args.get("db") and name in ctes), (name, planned.sql)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(generated_sql(), OPTIONS)
def test_generated_sql_only_raises_planner_errors_and_names_resolved_tables(sql: str, options: PlanOptions) -> None:
    _check(sql, options)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_sql(), OPTIONS)
def test_mutated_sql_only_raises_planner_errors_and_names_resolved_tables(sql: str, options: PlanOptions) -> None:
    _check(sql, options)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200), OPTIONS)
def test_arbitrary_text_only_raises_planner_errors(sql: str, options: PlanOptions) -> None:
    _check(sql, options)


def test_deep_nesting_is_refused_not_a_crash() -> None:
    # Past SQLite's parser stack (WAREHOUSE_LIMIT) or past what can be checked at all (INVALID_SQL).
    for depth in (200, 3000):
        try:
            plan("SELECT " + "(" * depth + "1" + ")" * depth, CATALOG)
        except PlannerError as e:
            assert e.code in ("INVALID_SQL", "WAREHOUSE_LIMIT")
