"""The demo warehouse: real SQLite files generated at a small scale and read back."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from gateway.domain import TableState
from gateway.warehouse.demo_data import (
    HISTORY_DAYS,
    HISTORY_END,
    SHADOW_PREFIX,
    DemoSummary,
    generate_demo_warehouse,
    sqlite_path,
)

SCALE = 0.02


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoSummary:
    return generate_demo_warehouse(str(tmp_path_factory.mktemp("demo") / "warehouse.db"), scale=SCALE)


@pytest.fixture
def db(demo: DemoSummary) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(f"file:{demo.path}?mode=ro", uri=True)
    yield conn
    conn.close()


def _columns(db: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in db.execute(f'PRAGMA table_info("{table}")')]


def _digest(path: Path) -> str:
    # Compare contents, not bytes: the file header carries a change counter.
    conn = sqlite3.connect(path)
    try:
        h = hashlib.sha256()
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name"):
            for row in conn.execute(f'SELECT * FROM "{name}" ORDER BY 1'):
                h.update(repr(row).encode())
        return h.hexdigest()
    finally:
        conn.close()


def test_every_listed_physical_table_exists_with_its_row_count(demo: DemoSummary, db: sqlite3.Connection) -> None:
    for physical, listed in demo.row_counts.items():
        (actual,) = db.execute(f'SELECT COUNT(*) FROM "{physical}"').fetchone()
        assert actual == listed > 0, physical


def test_the_catalog_plan_has_one_table_in_each_of_the_four_states(demo: DemoSummary) -> None:
    states = {v.state for t in demo.tables for v in t.versions}
    assert states == set(TableState)
    orders = demo.table("orders")
    assert [(v.version, v.state, v.physical_name) for v in orders.versions] == [
        (1, TableState.DEPRECATED, "orders__v1"),
        (2, TableState.ACTIVE, "orders__v2"),
    ]
    (shadow,) = demo.table("order_events").versions
    assert shadow.state is TableState.SHADOW
    assert shadow.physical_name == f"{SHADOW_PREFIX}order_events__v1"
    for external in ("customers", "products", "order_items"):
        (only,) = demo.table(external).versions
        assert (only.state, only.physical_name) == (TableState.READ_ONLY, external)


def test_row_counts_follow_the_scale(demo: DemoSummary) -> None:
    counts = demo.row_counts
    assert counts["customers"] == 400
    assert counts["products"] == 40
    assert counts["orders__v2"] == 2000
    assert 2 * counts["orders__v2"] < counts["order_items"] < 5 * counts["orders__v2"]


def test_columns_match_the_documented_shape(db: sqlite3.Connection) -> None:
    assert _columns(db, "customers") == ["id", "name", "email", "country", "segment", "created_at"]
    assert {"id", "sku", "name", "category", "price"} <= set(_columns(db, "products"))
    assert _columns(db, "orders__v2") == ["id", "customer_id", "status", "channel", "ordered_at", "total"]
    assert _columns(db, "orders__v1") == ["id", "customer_id", "status", "ordered_at"]
    assert _columns(db, "order_items") == ["id", "order_id", "product_id", "quantity", "unit_price"]


def test_foreign_keys_are_declared(db: sqlite3.Connection) -> None:
    def fks(table: str) -> set[tuple[str, str, str]]:
        return {(row[3], row[2], row[4]) for row in db.execute(f'PRAGMA foreign_key_list("{table}")')}

    assert fks("orders__v2") == {("customer_id", "customers", "id")}
    assert fks("orders__v1") == {("customer_id", "customers", "id")}
    assert fks("order_items") == {("order_id", "orders__v2", "id"), ("product_id", "products", "id")}


def test_every_key_points_at_an_existing_row(db: sqlite3.Connection) -> None:
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    (orphans,) = db.execute(
        "SELECT COUNT(*) FROM orders__v2 o LEFT JOIN customers c ON c.id = o.customer_id WHERE c.id IS NULL"
    ).fetchone()
    assert orphans == 0
    (events_orphans,) = db.execute(
        f"SELECT COUNT(*) FROM {SHADOW_PREFIX}order_events__v1 e "
        "LEFT JOIN orders__v2 o ON o.id = e.order_id WHERE o.id IS NULL"
    ).fetchone()
    assert events_orphans == 0


def test_order_totals_equal_the_sum_of_their_items(db: sqlite3.Connection) -> None:
    mismatched = db.execute(
        "SELECT o.id FROM orders__v2 o JOIN order_items i ON i.order_id = o.id "
        "GROUP BY o.id, o.total HAVING ABS(SUM(i.quantity * i.unit_price) - o.total) > 0.01"
    ).fetchall()
    assert mismatched == []
    (without_items,) = db.execute(
        "SELECT COUNT(*) FROM orders__v2 WHERE id NOT IN (SELECT order_id FROM order_items)"
    ).fetchone()
    assert without_items == 0


def test_the_deprecated_version_is_an_older_subset_of_the_active_one(db: sqlite3.Connection) -> None:
    (v1, v2) = (db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("orders__v1", "orders__v2"))
    assert 0 < v1 < v2
    (differing,) = db.execute(
        "SELECT COUNT(*) FROM orders__v1 a LEFT JOIN orders__v2 b ON a.id = b.id "
        "WHERE b.id IS NULL OR a.customer_id <> b.customer_id OR a.ordered_at <> b.ordered_at"
    ).fetchone()
    assert differing == 0
    (latest_v1,) = db.execute("SELECT MAX(ordered_at) FROM orders__v1").fetchone()
    (latest_v2,) = db.execute("SELECT MAX(ordered_at) FROM orders__v2").fetchone()
    assert latest_v1 < latest_v2


def test_timestamps_are_iso_8601_with_a_zone_over_about_two_years(db: sqlite3.Connection) -> None:
    stamps = [datetime.fromisoformat(s) for (s,) in db.execute("SELECT ordered_at FROM orders__v2")]
    stamps += [datetime.fromisoformat(s) for (s,) in db.execute("SELECT created_at FROM customers")]
    assert all(s.tzinfo is not None and s.utcoffset() == timedelta(0) for s in stamps)
    assert HISTORY_END - timedelta(days=HISTORY_DAYS + 1) <= min(stamps)
    assert max(stamps) <= HISTORY_END
    assert max(stamps) - min(stamps) > timedelta(days=600)


def test_no_customer_orders_before_signing_up(db: sqlite3.Connection) -> None:
    (early,) = db.execute(
        "SELECT COUNT(*) FROM orders__v2 o JOIN customers c ON c.id = o.customer_id "
        "WHERE o.ordered_at < c.created_at"
    ).fetchone()
    assert early == 0


def test_the_warehouse_is_left_in_wal_mode(db: sqlite3.Connection) -> None:
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_the_same_seed_writes_the_same_rows_and_another_seed_does_not(
    demo: DemoSummary, tmp_path: Path
) -> None:
    again = generate_demo_warehouse(f"sqlite:///{tmp_path / 'again.db'}", scale=SCALE)
    other = generate_demo_warehouse(str(tmp_path / "other.db"), scale=SCALE, seed=8)
    assert again.row_counts == demo.row_counts
    assert _digest(again.path) == _digest(demo.path)
    assert _digest(other.path) != _digest(demo.path)


def test_regenerating_replaces_the_previous_warehouse_and_reports_progress(tmp_path: Path) -> None:
    target = tmp_path / "nested" / "w.db"
    generate_demo_warehouse(str(target), scale=0.01)
    messages: list[str] = []
    summary = generate_demo_warehouse(str(target), scale=SCALE, progress=messages.append)
    assert summary.row_counts["customers"] == 400
    assert any("orders__v2" in m for m in messages)
    assert messages[-1].startswith("demo warehouse ready")
    assert sorted(p.name for p in target.parent.iterdir()) == ["w.db"]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///.spyne/warehouse.db", Path(".spyne/warehouse.db")),
        ("sqlite+aiosqlite:////abs/w.db", Path("/abs/w.db")),
        ("plain/w.db", Path("plain/w.db")),
    ],
)
def test_sqlite_path_understands_urls_and_plain_paths(given: str, expected: Path) -> None:
    assert sqlite_path(given) == expected


@pytest.mark.parametrize("given", ["postgresql://localhost/w", "sqlite://", "sqlite:///:memory:"])
def test_anything_but_a_sqlite_file_is_refused(given: str) -> None:
    with pytest.raises(ValueError, match="SQLite file"):
        sqlite_path(given)
