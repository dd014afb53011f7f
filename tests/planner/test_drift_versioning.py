"""Version numbers, the migration guide, and the public surface of planner.drift."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import planner.drift
from planner.drift import (
    ColumnSpec,
    ColumnStats,
    DriftInputError,
    DriftSeverity,
    SchemaDiff,
    SchemaVersion,
    check_compatibility,
    diff_schemas,
    is_new_major,
    migration_guide,
    next_version,
    parse_version,
)

FIXTURES = Path(__file__).parent / "fixtures" / "drift"


@pytest.mark.parametrize(("current", "severity", "expected"), [
    ("1.0", DriftSeverity.COMPATIBLE, ("1.1", "compatible changes bump the minor version: 1.0 → 1.1")),
    ("v1.0", DriftSeverity.COMPATIBLE, ("v1.1", "compatible changes bump the minor version: v1.0 → v1.1")),
    ("v1.1", DriftSeverity.BREAKING, ("v2.0", "breaking changes bump the major version: v1.1 → v2.0")),
    ("v1.4", DriftSeverity.WARNING,
     ("v1.5", "changes with warnings (not breaking) bump the minor version: v1.4 → v1.5")),
    ("v3", DriftSeverity.COMPATIBLE, ("v3.1", "compatible changes bump the minor version: v3.0 → v3.1")),
    ("9.12", DriftSeverity.BREAKING, ("10.0", "breaking changes bump the major version: 9.12 → 10.0")),
])
def test_next_version(current: str, severity: DriftSeverity, expected: tuple[str, str]) -> None:
    assert next_version(current, severity) == expected


def test_a_diff_decides_the_bump_and_no_changes_keep_the_version() -> None:
    same = diff_schemas([ColumnSpec("a", "int")], [ColumnSpec("a", "integer")])
    assert next_version("v1.2", same) == ("v1.2", "no changes keep the version: v1.2")
    dropped = diff_schemas([ColumnSpec("a", "int")], [])
    assert next_version("v1.2", dropped)[0] == "v2.0"


@pytest.mark.parametrize("bad", ["", "one", "1.2.3", "v-1", "1."])
def test_an_unreadable_version_is_refused(bad: str) -> None:
    with pytest.raises(DriftInputError, match=r"MAJOR\.MINOR"):
        parse_version(bad)


def test_a_breaking_promotion_needs_a_new_major() -> None:
    assert is_new_major("v2.0", "v1.3") and not is_new_major("v1.4", "v1.3")


def _orders_diff() -> SchemaDiff:
    old = [ColumnSpec("id", "int4", nullable=False), ColumnSpec("cust_name", "varchar(40)"),
           ColumnSpec("amount", "numeric(10,2)"), ColumnSpec("code", "text"),
           ColumnSpec("placed_at", "timestamp"), ColumnSpec("legacy_flag", "boolean"),
           ColumnSpec("email", "text", stats=ColumnStats(row_count=9, null_count=2)),
           ColumnSpec("note", "text", nullable=False)]
    new = [ColumnSpec("id", "int8", nullable=False), ColumnSpec("customer_name", "varchar(40)"),
           ColumnSpec("amount", "text"), ColumnSpec("code", "varchar(8)"),
           ColumnSpec("placed_at", "timestamptz"), ColumnSpec("email", "text", nullable=False),
           ColumnSpec("note", "text"), ColumnSpec("channel", "text", nullable=False, default="'web'"),
           ColumnSpec("region", "text", nullable=False), ColumnSpec("coupon", "text")]
    return diff_schemas(old, new, dialect="postgres")


def test_the_migration_guide_matches_its_golden_text() -> None:
    guide = migration_guide(_orders_diff(), "orders")
    golden = (FIXTURES / "guide_orders.txt").read_text()
    assert guide == golden.rstrip("\n"), guide


def test_the_guide_for_no_changes_says_so() -> None:
    assert migration_guide(SchemaDiff((), DriftSeverity.COMPATIBLE), "orders") == \
        "orders: no changes; every existing query keeps working."


def test_the_guide_names_the_version_each_change_breaks() -> None:
    diff = check_compatibility([SchemaVersion("v1.0", (ColumnSpec("a", "int"),))], [])
    assert "(against version v1.0)" in migration_guide(diff, "t")


EXPECTED_ALL = {
    "EDGES", "RELATIONS", "ChangeType", "ColumnSpec", "ColumnStats", "DriftInputError",
    "DriftSeverity", "Edge", "NormalType", "SchemaChange", "SchemaDiff", "SchemaVersion",
    "check_compatibility", "diff_schemas", "explain", "is_new_major", "migration_guide",
    "minhash", "next_version", "normalize_type", "parse_version", "relate", "similarity",
    "widening",
}


def test_the_public_surface_is_pinned() -> None:
    assert set(planner.drift.__all__) == EXPECTED_ALL
    for name in EXPECTED_ALL:
        assert getattr(planner.drift, name) is not None


def test_drift_imports_only_the_standard_library_sqlglot_and_the_planner() -> None:
    allowed = set(sys.stdlib_module_names) | {"sqlglot", "planner"}
    for path in Path(planner.drift.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                roots = [node.module.split(".")[0]]
            else:
                continue
            assert set(roots) <= allowed, f"{path.name} imports {roots}"
