"""Golden drift cases: schema pairs with the expected changes and severities, as data.

Fixtures live in ``tests/planner/fixtures/drift/``. A column is written
``name TYPE [NOT NULL] [DEFAULT expr]``. An expected change is
``[type, column, severity, {optional fields to compare}]``; the list is exact and in order.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from planner.drift import (
    EDGES,
    ChangeType,
    ColumnSpec,
    ColumnStats,
    SchemaChange,
    SchemaDiff,
    SchemaVersion,
    check_compatibility,
    diff_schemas,
    migration_guide,
    minhash,
    normalize_type,
    relate,
)
from planner.drift.lattice import Relation

FIXTURES = Path(__file__).parent / "fixtures" / "drift"
DIFF_FILES = ("lattice.json", "columns.json", "renames.json")


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


def parse_column(text: str, index: int, stats: dict[str, Any] | None) -> ColumnSpec:
    name, _, rest = text.partition(" ")
    default = None
    if " DEFAULT " in f" {rest}":
        rest, _, default = f" {rest}".partition(" DEFAULT ")
        rest = rest.strip()
    nullable = True
    if rest.endswith(" NOT NULL") or rest == "NOT NULL":
        rest, nullable = rest[: -len("NOT NULL")].strip(), False
    return ColumnSpec(name=name, type=rest, nullable=nullable, default=default,
                      stats=_stats(stats.get(name)) if stats else None)


def _stats(raw: dict[str, Any] | None) -> ColumnStats | None:
    if raw is None:
        return None
    raw = dict(raw)
    values = raw.pop("values", None)
    span = raw.pop("values_range", None)
    if span is not None:
        values = [str(i) for i in range(*span)]
    for key in ("min_value", "max_value"):
        if isinstance(raw.get(key), str):
            raw[key] = Decimal(raw[key])
    return ColumnStats(**raw, fingerprint=minhash(values) if values is not None else None)


def columns(texts: list[str], stats: dict[str, Any] | None = None) -> list[ColumnSpec]:
    return [parse_column(t, i, stats) for i, t in enumerate(texts)]


def diff_cases() -> Iterator[Any]:
    for name in DIFF_FILES:
        for case in _load(name)["cases"]:
            yield pytest.param(case, id=f"{name[:-5]}: {case['title']}")


def spelling_cases() -> Iterator[Any]:
    for dialect, groups in _load("spellings.json")["groups"].items():
        for group in groups:
            for other in group[1:]:
                yield pytest.param(None if dialect == "default" else dialect, group[0], other,
                                   id=f"{dialect}: {group[0]} = {other}")


def check_changes(actual: tuple[SchemaChange, ...], expected: list[list[Any]],
                  relation_of: Callable[[SchemaChange], Relation] | None = None) -> None:
    got = [(c.type.value, c.column, c.severity.value) for c in actual]
    want = [tuple(e[:3]) for e in expected]
    assert got == want, "\n".join(c.reason for c in actual)
    for change, e in zip(actual, expected, strict=True):
        extra = dict(e[3]) if len(e) > 3 else {}
        relation = extra.pop("relation", None)
        edge = extra.pop("edge", None)
        floor = extra.pop("min_confidence", None)
        if floor is not None:
            assert change.confidence is not None and change.confidence >= floor, change.reason
        if "rename_candidates" in extra:
            extra["rename_candidates"] = tuple(extra["rename_candidates"])
        for key, value in extra.items():
            assert getattr(change, key) == value, f"{key}: {change}"
        if relation is not None or edge is not None:
            assert relation_of is not None and change.type == ChangeType.TYPE_CHANGE
            rel = relation_of(change)
            if relation is not None:
                assert rel.relation == relation, change.reason
            if edge is not None:
                assert rel.edge == tuple(edge.split(">")), rel


@pytest.mark.parametrize("case", list(diff_cases()))
def test_golden_diff(case: dict[str, Any]) -> None:
    dialect = case.get("dialect")
    old = columns(case["old"], case.get("stats"))
    new = columns(case["new"], case.get("new_stats"))
    positions = case.get("positions", {})
    old = [replace(c, position=positions.get("old", {}).get(c.name)) for c in old]
    new = [replace(c, position=positions.get("new", {}).get(c.name)) for c in new]
    diff = diff_schemas(old, new, dialect=dialect,
                        rename_threshold=case.get("rename_threshold", 0.7))
    by_old = {c.name: c for c in old}
    by_new = {c.name: c for c in new}

    def relation_of(change: SchemaChange) -> Relation:
        a = by_old[change.old_column or ""]
        b = by_new[change.new_column or ""]
        return relate(normalize_type(a.type, dialect), normalize_type(b.type, dialect))

    check_changes(diff.changes, case["changes"], relation_of)
    if "severity" in case:
        assert diff.severity.value == case["severity"]
    assert diff.severity == max((c.severity for c in diff.changes), default=diff.severity)
    assert migration_guide(diff, "t")  # every golden diff renders


@pytest.mark.parametrize("case", _load("compat.json")["cases"], ids=lambda c: c["title"])
def test_golden_compatibility(case: dict[str, Any]) -> None:
    stats = case.get("stats", {})
    history = [SchemaVersion(label, tuple(columns(cols, stats.get(label))))
               for label, cols in case["history"].items()]
    diff = check_compatibility(history, columns(case["proposed"]))
    check_changes(diff.changes, case["changes"])
    assert diff.severity.value == case["severity"]
    assert {v: s.value for v, s in diff.versions} == case["versions"]


@pytest.mark.parametrize(("dialect", "first", "other"), list(spelling_cases()))
def test_golden_spelling_is_no_change(dialect: str | None, first: str, other: str) -> None:
    diff = diff_schemas([ColumnSpec("c", first)], [ColumnSpec("c", other)], dialect=dialect)
    assert diff == SchemaDiff((), diff.severity), diff.changes[0].reason if diff.changes else ""
    assert normalize_type(first, dialect).known


@pytest.mark.parametrize("group", _load("spellings.json")["across"],
                         ids=lambda g: " = ".join(s for _, s in g))
def test_golden_spelling_across_dialects(group: list[list[str]]) -> None:
    types = {normalize_type(s, None if d == "default" else d) for d, s in group}
    assert len(types) == 1, types


def test_every_lattice_edge_has_a_golden_case() -> None:
    seen: set[tuple[str, str]] = set()
    for name in DIFF_FILES:
        for case in _load(name)["cases"]:
            for expected in case["changes"]:
                if len(expected) > 3 and "edge" in expected[3]:
                    a, b = expected[3]["edge"].split(">")
                    seen.add((a, b))
    missing = {(e.old, e.new) for e in EDGES} - seen
    assert not missing, f"lattice edges without a golden case: {sorted(missing)}"


def test_there_are_at_least_sixty_golden_cases() -> None:
    diffs = sum(len(_load(n)["cases"]) for n in DIFF_FILES) + len(_load("compat.json")["cases"])
    assert diffs >= 60
    assert len(list(spelling_cases())) >= 60
