"""fetch_capped sizes a whole batch by columns, and still truncates where the row-by-row rule does."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from gateway.warehouse.engine import FETCH_BATCH, fetch_capped, value_size

ROWS = [(i, f"name-{i}" * (i % 7), None if i % 5 == 0 else i * 1.5, b"\x00\x01" if i % 3 == 0 else "x")
        for i in range(1, 1201)]


def cursor() -> Any:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (a INTEGER, b TEXT, c REAL, d)")
    conn.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", ROWS)
    return conn.execute("SELECT a, b, c, d FROM t ORDER BY a")


def row_by_row(max_rows: int, max_bytes: int) -> tuple[list[list[Any]], bool, int]:
    rows: list[list[Any]] = []
    size = 0
    for row in ROWS:
        row_size = sum(value_size(v) for v in row) + 2
        if len(rows) == max_rows or size + row_size > max_bytes:
            return rows, True, size
        size += row_size
        rows.append(list(row))
    return rows, False, size


@pytest.mark.parametrize("max_rows", [1, 100, FETCH_BATCH, FETCH_BATCH + 1, len(ROWS), 10_000])
@pytest.mark.parametrize("max_bytes", [50, 5_000, 20_000, 64 * 1024 * 1024])
def test_the_caps_cut_at_the_same_row_with_the_same_byte_count(max_rows: int, max_bytes: int) -> None:
    assert fetch_capped(cursor().fetchmany, max_rows, max_bytes) == row_by_row(max_rows, max_bytes)


def test_a_str_subclass_and_containers_are_sized_as_value_size_says() -> None:
    class Label(str):
        pass

    batches = [[(Label("abc"), [1, 2], {"k": 1}), ("de", (3,), None)], []]
    rows, truncated, size = fetch_capped(lambda n: batches.pop(0), 10, 1_000)
    assert not truncated and len(rows) == 2
    assert size == sum(value_size(v) for row in rows for v in row) + 2 * len(rows)
