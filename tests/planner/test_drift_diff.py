"""diff_schemas, rename pairing and fingerprints: properties over generated schemas."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.drift import (
    ChangeType,
    ColumnSpec,
    ColumnStats,
    DriftInputError,
    DriftSeverity,
    SchemaVersion,
    check_compatibility,
    diff_schemas,
    minhash,
    similarity,
)
from planner.drift.candidates import candidate_pairs
from planner.drift.names import name_similarity, side
from planner.drift.normalize import normalize_type

TYPES = ["int", "bigint", "text", "varchar(10)", "date", "timestamp", "boolean", "decimal(10,2)"]
NAMES = st.from_regex(r"[a-z][a-z_]{0,11}", fullmatch=True)
COLUMN = st.builds(ColumnSpec, name=NAMES, type=st.sampled_from(TYPES), nullable=st.booleans())
SCHEMA = st.lists(COLUMN, max_size=12, unique_by=lambda c: c.name)


@given(SCHEMA)
def test_a_schema_does_not_drift_from_itself(schema: list[ColumnSpec]) -> None:
    diff = diff_schemas(schema, schema)
    assert diff.changes == () and diff.severity == DriftSeverity.COMPATIBLE


@settings(max_examples=200)
@given(SCHEMA, SCHEMA, st.floats(min_value=0.3, max_value=1.0))
def test_every_column_is_accounted_for_exactly_once(old: list[ColumnSpec], new: list[ColumnSpec],
                                                    threshold: float) -> None:
    diff = diff_schemas(old, new, rename_threshold=threshold)
    gone = Counter(c.old_column for c in diff.changes
                   if c.type in (ChangeType.REMOVE, ChangeType.RENAME))
    came = Counter(c.new_column for c in diff.changes
                   if c.type in (ChangeType.ADD, ChangeType.RENAME))
    old_names, new_names = {c.name for c in old}, {c.name for c in new}
    assert set(gone) == old_names - new_names and max(gone.values(), default=1) == 1
    assert set(came) == new_names - old_names and max(came.values(), default=1) == 1
    for c in diff.changes:
        if c.type == ChangeType.RENAME:
            assert c.confidence is not None and c.confidence >= threshold
        assert (c.severity == DriftSeverity.BREAKING) >= c.undecided  # undecided is never lenient
    assert diff.severity == max((c.severity for c in diff.changes), default=DriftSeverity.COMPATIBLE)


def test_duplicate_columns_are_refused_with_a_fix() -> None:
    with pytest.raises(DriftInputError, match="names column 'a' twice") as err:
        diff_schemas([ColumnSpec("a", "int"), ColumnSpec("a", "text")], [])
    assert err.value.code == "INVALID_INPUT"


def test_changes_list_old_columns_in_order_then_additions() -> None:
    old = [ColumnSpec("a", "int"), ColumnSpec("b", "int"), ColumnSpec("c", "int")]
    new = [ColumnSpec("z", "boolean"), ColumnSpec("c", "bigint"), ColumnSpec("a", "text")]
    got = [(c.type.value, c.column) for c in diff_schemas(old, new).changes]
    assert got == [("TYPE_CHANGE", "a"), ("REMOVE", "b"), ("TYPE_CHANGE", "c"), ("ADD", "z")]


def test_a_rename_reason_shows_its_evidence() -> None:
    old = [ColumnSpec("id", "int"), ColumnSpec("cust_name", "text")]
    new = [ColumnSpec("id", "int"), ColumnSpec("customer_name", "text")]
    (rename,) = diff_schemas(old, new).changes
    assert rename.type == ChangeType.RENAME
    assert "same type" in rename.reason and "same position" in rename.reason


def test_unlabelled_history_versions_are_numbered() -> None:
    diff = check_compatibility([[ColumnSpec("a", "int")], [ColumnSpec("a", "int"), ColumnSpec("b", "int")]],
                               [ColumnSpec("a", "int")])
    assert diff.versions == (("#1", DriftSeverity.COMPATIBLE), ("#2", DriftSeverity.BREAKING))
    assert [c.version for c in diff.changes] == ["#2"]


def test_compatibility_against_one_version_equals_the_diff() -> None:
    old = (ColumnSpec("a", "int"), ColumnSpec("b", "text"))
    new = [ColumnSpec("a", "bigint")]
    checked = check_compatibility([SchemaVersion("v1.0", old)], new)
    plain = diff_schemas(old, new)
    assert [c.type for c in checked.changes] == [c.type for c in plain.changes]
    assert checked.severity == plain.severity


@pytest.mark.parametrize(("a", "b", "low", "high"), [
    ("cust_name", "customer_name", 0.85, 1.0),
    ("qty", "quantity", 0.65, 0.8),
    ("customerName", "customer_name", 1.0, 1.0),
    ("email", "email_address", 0.5, 0.6),
    ("amount", "total", 0.0, 0.1),
    ("gone", "new", 0.0, 0.45),
])
def test_name_similarity(a: str, b: str, low: float, high: float) -> None:
    t = normalize_type("text")
    score = name_similarity(side(ColumnSpec(a, "text"), t, 0, None, None),
                            side(ColumnSpec(b, "text"), t, 0, None, None))
    assert low <= score <= high


def test_minhash_estimates_overlap() -> None:
    left = minhash(range(0, 1000))
    assert minhash(str(v) for v in range(999, -1, -1)) == left  # order and type of text do not matter
    half = similarity(left, minhash(range(500, 1500)))  # true Jaccard: 1/3
    assert half is not None and 0.15 < half < 0.55
    assert similarity(left, minhash(range(5000, 6000))) == pytest.approx(0.0, abs=0.1)
    assert similarity(left, None) is None and similarity(left, minhash([1], 8)) is None
    assert minhash([None, None]) == ()


def test_fingerprints_on_both_sides_are_needed_to_count() -> None:
    values = ColumnStats(fingerprint=minhash(range(100)))
    old = [ColumnSpec("id", "int"), ColumnSpec("amount", "int", stats=values)]
    new = [ColumnSpec("id", "int"), ColumnSpec("total", "int")]
    assert [c.type for c in diff_schemas(old, new).changes] == [ChangeType.REMOVE, ChangeType.ADD]
    new = [ColumnSpec("id", "int"), ColumnSpec("total", "int", stats=values)]
    assert [c.type for c in diff_schemas(old, new).changes] == [ChangeType.RENAME]


def test_small_families_score_every_pair_and_large_ones_are_blocked() -> None:
    t = normalize_type("text")
    few = [side(ColumnSpec(f"c{i}", "text"), t, i, None, None) for i in range(10)]
    assert len(list(candidate_pairs(few, few))) == 100
    many_old = [side(ColumnSpec(f"old_{i}", "text"), t, i, None, None) for i in range(400)]
    many_new = [side(ColumnSpec(f"new_{i}", "text"), t, i, None, None) for i in range(400)]
    blocked = list(candidate_pairs(many_old, many_new))
    assert len(blocked) < 400 * 40  # linear in the columns, not 160,000 pairs


def test_renames_are_still_found_among_heavy_churn() -> None:
    # 400 removed and 400 added text columns: past the exhaustive limit, so blocked.
    old = [ColumnSpec("id", "int")] + [ColumnSpec(f"f{i}_customer_zone", "text") for i in range(400)]
    new = [ColumnSpec("id", "int")] + [ColumnSpec(f"g{i}_unrelated", "text") for i in range(400)]
    new[123] = ColumnSpec("f122_cust_zone", "text")  # renamed in place
    moved = ColumnSpec("f7_customer_zone_id", "text", stats=ColumnStats(fingerprint=minhash(range(50))))
    old[8] = ColumnSpec("f7_customer_zone", "text", stats=ColumnStats(fingerprint=minhash(range(50))))
    new.append(moved)  # renamed, moved to the end, same values
    renames = {c.old_column: c.new_column for c in diff_schemas(old, new).changes
               if c.type == ChangeType.RENAME}
    assert renames == {"f122_customer_zone": "f122_cust_zone", "f7_customer_zone": "f7_customer_zone_id"}
