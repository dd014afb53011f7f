"""What each warehouse runs, as data: one :class:`WarehouseProfile` per sqlglot dialect.

A profile says which allowed functions the warehouse lacks (with what to write instead), which
analytic constructs it runs, and the limits of its parser. The planner refuses at preview what
a profile says the warehouse cannot run, unless a rule rewrites it exactly
(:mod:`planner.rules.portable_functions`): nothing that previews as valid may fail at the
warehouse for a reason written here.

SQLite (3.40, as bundled with Python) and PostgreSQL (15) are measured: every function of
:mod:`planner.capabilities.functions` is planned and run live on both by
``tests/planner/test_warehouse_functions.py``, so a wrong entry fails a test. The other profiles
are written from each engine's documentation ("on paper") and are marked ``measured=False``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

# The analytic constructs a profile may run; the planner names a refused one by these words.
ROLLUP = "ROLLUP"
CUBE = "CUBE"
GROUPING_SETS = "GROUPING SETS"
GROUPING = "GROUPING()"
FRAME = "window frame (ROWS/RANGE)"
GROUPS_FRAME = "window frame (GROUPS)"
FILTER = "FILTER (WHERE …)"
QUALIFY = "QUALIFY"  # sqlglot rewrites it into a subquery where the warehouse lacks it
LATERAL = "LATERAL"
WITHIN_GROUP = "WITHIN GROUP"
NULLS_ORDER = "NULLS FIRST/LAST"

ALL_CONSTRUCTS = frozenset({ROLLUP, CUBE, GROUPING_SETS, GROUPING, FRAME, GROUPS_FRAME, FILTER, QUALIFY, LATERAL,
                            WITHIN_GROUP, NULLS_ORDER})


@dataclass(frozen=True, slots=True)
class WarehouseProfile:
    dialect: str  # the sqlglot dialect the warehouse speaks
    name: str  # as people call it, for messages
    lacks: Mapping[str, str]  # function key -> what to write instead (refused unless rewritten)
    constructs: frozenset[str]  # the constructs above it runs
    measured: bool = False  # checked live by the test suite, not only read from documentation
    native_qualify: bool = False  # else QUALIFY becomes a filtered subquery before the row cap applies
    # `FROM (SELECT …) AS t(a, b)`: where the grammar has no column alias list, the names move into
    # the derived query's select list (planner.rules.derived_columns)
    column_alias_lists: bool = True
    max_identifier_bytes: int | None = None  # longer names are refused (PostgreSQL truncates them silently)
    max_statement_bytes: int | None = None  # the longest statement the warehouse accepts
    max_parser_depth: float | None = None  # SQLite: the parser's stack (see planner.capabilities.depth)
    max_expression_depth: int | None = None  # SQLite: SQLITE_MAX_EXPR_DEPTH
    max_compound_selects: int | None = None  # SQLite: SQLITE_MAX_COMPOUND_SELECT

    def runs(self, construct: str) -> bool:
        return construct in self.constructs


def _lacks(*keys: str, **alternatives: str) -> Mapping[str, str]:
    table = {k: _ALTERNATIVES.get(k, "") for k in keys}
    table.update(alternatives)
    return MappingProxyType(table)


# What to write instead, where one alternative fits every warehouse that lacks the function.
_ALTERNATIVES: dict[str, str] = {
    "Stddev": "SQRT((SUM(x * x) - SUM(x) * SUM(x) / COUNT(x)) / (COUNT(x) - 1))",
    "StddevSamp": "SQRT((SUM(x * x) - SUM(x) * SUM(x) / COUNT(x)) / (COUNT(x) - 1))",
    "StddevPop": "SQRT(SUM(x * x) / COUNT(x) - AVG(x) * AVG(x))",
    "Variance": "(SUM(x * x) - SUM(x) * SUM(x) / COUNT(x)) / (COUNT(x) - 1)",
    "VariancePop": "SUM(x * x) / COUNT(x) - AVG(x) * AVG(x)",
    "Corr": "the correlation computed from SUM, COUNT and SQRT",
    "CovarPop": "(SUM(x * y) - SUM(x) * SUM(y) / COUNT(*)) / COUNT(*)",
    "CovarSamp": "(SUM(x * y) - SUM(x) * SUM(y) / COUNT(*)) / (COUNT(*) - 1)",
    "Median": "ROW_NUMBER() over the ordered values in a subquery",
    "PercentileCont": "ROW_NUMBER() over the ordered values in a subquery",
    "PercentileDisc": "ROW_NUMBER() over the ordered values in a subquery",
    "Mode": "GROUP BY the value ORDER BY COUNT(*) DESC LIMIT 1",
    "ArgMax": "ORDER BY the measure DESC LIMIT 1 in a subquery",
    "ArgMin": "ORDER BY the measure LIMIT 1 in a subquery",
    "First": "MIN(x), or FIRST_VALUE(x) OVER (…)",
    "Last": "MAX(x), or LAST_VALUE(x) OVER (…)",
    "ArrayAgg": "GROUP_CONCAT/STRING_AGG into text",
    "AnyValue": "MIN(x)",
    "Levenshtein": "no equivalent; compare with LIKE",
    "RegexpLike": "LIKE or GLOB",
    "RegexpILike": "LOWER(s) LIKE LOWER(pattern)",
    "RegexpReplace": "REPLACE()",
    "RegexpExtract": "SUBSTR() with INSTR()",
    "Xor": "(a) <> (b)",
    "Initcap": "UPPER(SUBSTR(s, 1, 1)) || LOWER(SUBSTR(s, 2))",
    "Translate": "nested REPLACE()",
    "Reverse": "no equivalent",
    "MD5": "no equivalent",
    "Cbrt": "POWER(x, 1.0 / 3) for x >= 0",
    "Ascii": "UNICODE(s)",
    "ConcatWs": "a || ',' || b, with COALESCE around values that may be NULL",
    "SplitPart": "SUBSTR() with INSTR()",
    "AddMonths": "d + INTERVAL '1' MONTH",
    "TryCast": "CASE WHEN … THEN CAST(…) END with an explicit test of the text",
    "IsNan": "x <> x",
    "WidthBucket": "CASE WHEN … END or arithmetic with FLOOR()",
    "Dayname": "CASE on the day of the week",
    "Monthname": "CASE on the month",
    "DayOfWeek": "EXTRACT(DOW FROM d) (0 is Sunday)",
    "WeekOfYear": "EXTRACT(WEEK FROM d)",
    "Timestamp": "CAST(s AS TIMESTAMP)",
    "Datetime": "CAST(s AS TIMESTAMP)",
    "StrToDate": "CAST(s AS DATE) for ISO text",
    "StrToTime": "CAST(s AS TIMESTAMP) for ISO text",
    "DateSub": "d - INTERVAL '1' DAY",
    "DatetimeAdd": "ts + INTERVAL '1' DAY",
    "DatetimeSub": "ts - INTERVAL '1' DAY",
    "TimestampAdd": "ts + INTERVAL '1' DAY",
    "TimestampSub": "ts - INTERVAL '1' DAY",
    "DatetimeDiff": "the difference of the two dates",
    "TimestampDiff": "the difference of the two dates",
    "DatetimeTrunc": "DATE_TRUNC('month', ts)",
    "age": "the difference of the two timestamps",
    "julianday": "the difference of two dates",
    "unixepoch": "EXTRACT(EPOCH FROM ts)",
    "total": "COALESCE(SUM(x), 0.0)",
    "printf": "FORMAT() or || with CAST",
    "time": "CAST(ts AS TIME)",
    "make_date": "CAST('2024-01-01' AS DATE)",
    "Hex": "no equivalent",
    "Format": "|| with CAST",
    "DecodeCase": "CASE x WHEN … THEN … END",
    "BitwiseXor": "(a | b) - (a & b)",
}

# Measured on SQLite 3.40 (no math-function gaps but these, no regexp, no padding, no statistics).
SQLITE = WarehouseProfile(
    dialect="sqlite", name="SQLite", measured=True,
    lacks=_lacks(
        "Stddev", "StddevSamp", "StddevPop", "Variance", "VariancePop", "Corr", "CovarPop", "CovarSamp", "Median",
        "PercentileCont", "PercentileDisc", "Mode", "ArgMax", "ArgMin", "First", "Last", "ArrayAgg", "AnyValue",
        "Levenshtein", "RegexpLike", "RegexpILike", "RegexpReplace", "RegexpExtract", "Xor", "Initcap", "Translate",
        "Reverse", "MD5", "Cbrt", "Ascii", "ConcatWs", "SplitPart", "AddMonths", "TryCast", "IsNan", "WidthBucket",
        "Dayname", "Monthname", "DayOfWeek", "WeekOfYear", "Timestamp", "StrToDate", "StrToTime", "DateSub",
        "DatetimeAdd", "DatetimeSub", "TimestampAdd", "TimestampSub", "DatetimeDiff", "TimestampDiff", "age",
        "make_date", "DecodeCase", "BitwiseXor",
        # Rewritten exactly by planner.rules.portable_functions (refused where no exact form exists):
        "Concat", "Left", "Right", "StartsWith", "EndsWith", "Contains", "ApproxDistinct", "Cot", "LastDay",
        "octet_length", "every", "Year", "Month", "Day", "DayOfMonth", "DayOfYear", "Hour", "Minute", "Second",
        "Quarter", "UnixToTime", "TimeToUnix", "Repeat", "Pad",
        TryCast="CASE WHEN s GLOB '[0-9]*' THEN CAST(s AS INTEGER) END (SQLite's CAST turns bad text into 0)",
        Pad="PRINTF('%5s', s) pads with spaces; SUBSTR(s || REPLACE(HEX(ZEROBLOB(n)), '00', 'x'), 1, n) pads right",
        Repeat="REPLACE(HEX(ZEROBLOB(n)), '00', s)",
        Left="SUBSTR(s, 1, n)", Right="SUBSTR(s, -n)",
        Concat="a || b, with COALESCE(x, '') around values that may be NULL"),
    constructs=frozenset({FRAME, GROUPS_FRAME, FILTER, QUALIFY, NULLS_ORDER}),
    max_parser_depth=102.5, max_expression_depth=1000, max_compound_selects=500, column_alias_lists=False,
    max_statement_bytes=1_000_000_000)

# Measured on PostgreSQL 15.
POSTGRES = WarehouseProfile(
    dialect="postgres", name="PostgreSQL", measured=True,
    lacks=_lacks(
        "ArgMax", "ArgMin", "First", "Last", "AnyValue", "Datetime", "DatetimeDiff", "DatetimeTrunc", "TimestampDiff",
        "DayOfWeek", "Hex", "Levenshtein", "RegexpExtract", "Timestamp", "TryCast", "Xor", "julianday", "printf",
        "time", "total", "unixepoch", "AddMonths", "IsNan", "Dayname", "Monthname", "DateSub", "DatetimeAdd",
        "DatetimeSub", "TimestampAdd", "TimestampSub", "datetime", "BitwiseXor",
        # Rewritten exactly by planner.rules.portable_functions:
        "ApproxDistinct", "Contains", "EndsWith", "CurrentTime", "DayOfMonth", "DayOfYear", "Hour", "Minute",
        "Second", "Quarter", "WeekOfYear", "Log", "Mode", "Round",
        Hex="ENCODE(CONVERT_TO(s, 'UTF8'), 'hex') (lower case)", Levenshtein="the fuzzystrmatch extension",
        RegexpExtract="SUBSTRING(s FROM 'pattern')", TryCast="CASE WHEN s ~ '^-?[0-9]+$' THEN CAST(s AS INT) END",
        Timestamp="CAST(s AS TIMESTAMP)", julianday="EXTRACT(JULIAN FROM d)", time="CAST(ts AS TIME)",
        printf="FORMAT('%s', x) or TO_CHAR()", IsNan="x = 'NaN'", DayOfWeek="EXTRACT(DOW FROM d) + 1",
        AddMonths="d + INTERVAL '1 month'", Dayname="TO_CHAR(d, 'Day')", Monthname="TO_CHAR(d, 'Month')",
        ArgMax="(ARRAY_AGG(s ORDER BY x DESC))[1]", ArgMin="(ARRAY_AGG(s ORDER BY x))[1]",
        datetime="CAST(s AS TIMESTAMP)", BitwiseXor="(a) <> (b) for booleans, a # b for integers"),
    constructs=frozenset({ROLLUP, CUBE, GROUPING_SETS, GROUPING, FRAME, GROUPS_FRAME, FILTER, QUALIFY, LATERAL,
                          WITHIN_GROUP, NULLS_ORDER}),
    max_identifier_bytes=63, max_statement_bytes=1_073_741_823)

DUCKDB = WarehouseProfile(
    native_qualify=True,
    dialect="duckdb", name="DuckDB",
    lacks=_lacks("julianday", "unixepoch", "total", "time", "Initcap", "WidthBucket", "Datetime"),
    constructs=ALL_CONSTRUCTS)

# MySQL 8 and MariaDB 10.6+ share the dialect; where they differ, the profile takes the smaller.
MYSQL = WarehouseProfile(
    dialect="mysql", name="MySQL/MariaDB",
    lacks=_lacks("Corr", "CovarPop", "CovarSamp", "Median", "PercentileCont", "PercentileDisc", "Mode", "ArgMax",
                 "ArgMin", "First", "Last", "ArrayAgg", "Initcap", "Translate", "Levenshtein", "Cbrt",
                 "julianday", "unixepoch", "total", "printf", "age", "make_date", "WidthBucket", "IsNan", "Xor",
                 "TryCast", "every", every="MIN(cond)"),
    constructs=frozenset({FRAME, QUALIFY}),
    max_identifier_bytes=64, max_statement_bytes=64 * 1024 * 1024,
    column_alias_lists=False)  # MySQL has them since 8.0.19, MariaDB (10.11) not

SPARK = WarehouseProfile(
    dialect="spark", name="Spark SQL",
    lacks=_lacks("julianday", "unixepoch", "total", "time", "age", "Levenshtein", "IsNan"),
    constructs=frozenset({ROLLUP, CUBE, GROUPING_SETS, GROUPING, FRAME, FILTER, QUALIFY, LATERAL, WITHIN_GROUP,
                          NULLS_ORDER}))

TRINO = WarehouseProfile(
    dialect="trino", name="Trino",
    lacks=_lacks("julianday", "unixepoch", "total", "time", "age", "printf", "Median", "PercentileCont",
                 "PercentileDisc", "Mode", "Initcap", "Cot", "make_date",
                 Median="APPROX_PERCENTILE(x, 0.5)", PercentileCont="APPROX_PERCENTILE(x, p)",
                 PercentileDisc="APPROX_PERCENTILE(x, p)"),
    constructs=frozenset({ROLLUP, CUBE, GROUPING_SETS, GROUPING, FRAME, GROUPS_FRAME, FILTER, QUALIFY, LATERAL,
                          NULLS_ORDER}),
    max_statement_bytes=1_000_000)

SNOWFLAKE = WarehouseProfile(
    native_qualify=True,
    dialect="snowflake", name="Snowflake",
    lacks=_lacks("julianday", "unixepoch", "total", "time", "age", "printf", "make_date"),
    constructs=frozenset({ROLLUP, CUBE, GROUPING_SETS, GROUPING, FRAME, FILTER, QUALIFY, LATERAL, WITHIN_GROUP,
                          NULLS_ORDER}),
    max_identifier_bytes=255, max_statement_bytes=1_048_576)

BIGQUERY = WarehouseProfile(
    native_qualify=True,
    dialect="bigquery", name="BigQuery",
    lacks=_lacks("julianday", "unixepoch", "total", "time", "age", "printf", "Median", "Mode", "Cot", "Cbrt",
                 "make_date", "Initcap", Median="APPROX_QUANTILES(x, 2)[OFFSET(1)]"),
    constructs=frozenset({ROLLUP, CUBE, GROUPING_SETS, GROUPING, FRAME, FILTER, QUALIFY, NULLS_ORDER}),
    max_identifier_bytes=300, max_statement_bytes=1_024 * 1_024, column_alias_lists=False)

DATABRICKS = WarehouseProfile(
    native_qualify=True,
    dialect="databricks", name="Databricks",
    lacks=_lacks("julianday", "unixepoch", "total", "time", "age", "Levenshtein"),
    constructs=frozenset({ROLLUP, CUBE, GROUPING_SETS, GROUPING, FRAME, FILTER, QUALIFY, LATERAL, WITHIN_GROUP,
                          NULLS_ORDER}),
    max_identifier_bytes=255)

REDSHIFT = WarehouseProfile(
    native_qualify=True,
    dialect="redshift", name="Amazon Redshift",
    lacks=_lacks("julianday", "unixepoch", "total", "time", "printf", "ArrayAgg", "Mode", "Levenshtein",
                 "Cbrt", "make_date", "WidthBucket", "Concat",
                 Concat="a || b, with COALESCE(x, '') around values that may be NULL"),
    constructs=frozenset({ROLLUP, CUBE, GROUPING_SETS, GROUPING, FRAME, QUALIFY, WITHIN_GROUP, NULLS_ORDER}),
    max_identifier_bytes=127, max_statement_bytes=16 * 1024 * 1024)

PROFILES: Mapping[str, WarehouseProfile] = MappingProxyType({
    p.dialect: p for p in (SQLITE, POSTGRES, DUCKDB, MYSQL, SPARK, TRINO, SNOWFLAKE, BIGQUERY, DATABRICKS, REDSHIFT)
} | {"hive": SPARK})
