"""json_rows and csv_rows convert per column only when needed, and always give what converting each
value gives (csv_rows: json_value's, but a decimal's exact text)."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import uuid
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from gateway.services.query_codec import csv_rows, json_rows, json_value

values = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(max_size=5), st.floats(),
    st.decimals(allow_nan=False, allow_infinity=False, places=4), st.dates(), st.datetimes(),
    st.binary(max_size=4), st.uuids(), st.timedeltas(),
)


def per_value(rows: list[list[Any]]) -> list[list[Any]]:
    return [[json_value(v) for v in row] for row in rows]


def same(a: list[list[Any]], b: list[list[Any]]) -> bool:
    # NaN is not equal to itself; compare through JSON, floats written exactly by repr.
    return json.dumps(a) == json.dumps(b)


@given(st.integers(1, 5).flatmap(lambda width: st.lists(st.lists(values, min_size=width, max_size=width),
                                                        max_size=12)))
def test_equals_converting_every_value(rows: list[list[Any]]) -> None:
    assert same(json_rows(rows), per_value(rows))


def test_json_native_columns_come_back_untouched() -> None:
    rows: list[list[Any]] = [[1, "a", None, True, 2.5], [2, None, "x", False, None]]
    assert json_rows(rows) is rows


def test_a_column_that_changes_type_after_its_first_value_is_still_converted() -> None:
    # SQLite types per value: the first rows say nothing certain about the later ones.
    rows: list[list[Any]] = [[1, 1.5], [2, 2.5], [b"\x00\x01", float("inf")], [dt.date(2024, 1, 2), float("nan")]]
    assert json_rows(rows) == [[1, 1.5], [2, 2.5], ["AAE=", "inf"], ["2024-01-02", "nan"]]


def test_exact_decimals_stay_exact() -> None:
    rows: list[list[Any]] = [[decimal.Decimal("0.1"), decimal.Decimal("12345678901234567890.123456789")],
            [decimal.Decimal("2.50"), None]]
    out = json_rows(rows)
    assert out == [[0.1, "12345678901234567890.123456789"], [2.5, None]]
    assert all(not isinstance(v, float) or math.isfinite(v) for row in out for v in row)


def test_other_types_and_the_input_is_not_modified() -> None:
    ident = uuid.uuid4()
    rows = [[ident, dt.timedelta(seconds=90), "kept"]]
    out = json_rows(rows)
    assert out == [[str(ident), 90.0, "kept"]]
    assert rows == [[ident, dt.timedelta(seconds=90), "kept"]]


def test_no_rows() -> None:
    assert json_rows([]) == []


def csv_per_value(rows: list[list[Any]]) -> list[list[Any]]:
    return [[f"{v:f}" if type(v) is decimal.Decimal else json_value(v) for v in row] for row in rows]


@given(st.integers(1, 5).flatmap(lambda width: st.lists(st.lists(values, min_size=width, max_size=width),
                                                        max_size=12)))
def test_csv_rows_equal_converting_every_value(rows: list[list[Any]]) -> None:
    assert same(csv_rows(rows), csv_per_value(rows))


@given(st.lists(st.one_of(st.none(), st.datetimes(timezones=st.timezones())), max_size=8),
       st.lists(st.one_of(st.none(), st.dates()), max_size=8), st.lists(st.one_of(st.none(), st.times()), max_size=8))
def test_a_column_of_dates_or_times_converts_as_json_value_does(stamps: list[Any], days: list[Any],
                                                                 clocks: list[Any]) -> None:
    for column in (stamps, days, clocks):
        rows = [[v] for v in column]
        assert json_rows(rows) == per_value(rows) == csv_rows(rows)


def test_csv_keeps_a_decimals_exact_text() -> None:
    D = decimal.Decimal
    rows: list[list[Any]] = [[D("2.50"), "x"], [D("-0.000001"), D("1")], [D("0E-10"), None], [None, 7]]
    assert csv_rows(rows) == [["2.50", "x"], ["-0.000001", "1"], ["0.0000000000", None], [None, 7]]
    # JSON carries the same decimal as the number it is when the float is exact.
    assert json_rows(rows)[0][0] == 2.5 and json_rows(rows)[1][0] == -1e-06


def test_csv_native_columns_come_back_untouched() -> None:
    rows: list[list[Any]] = [[1, "a", None, True, 2.5, float("inf")]]
    assert csv_rows(rows) is rows
