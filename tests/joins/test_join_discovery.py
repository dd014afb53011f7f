"""Discovery and scoring, pure: hand-built catalogs, no warehouse."""

from __future__ import annotations

from planner.catalog import Column
from planner.join_discovery import (
    DeclaredKey,
    DiscoveryTable,
    EvidenceKind,
    ObservedJoin,
    candidate_id,
    discover,
    stems,
    type_family,
)
from planner.join_scoring import HIGH, LOW, MANY_TO_MANY, MANY_TO_ONE, Measurement, confidence_level, score


def t(name: str, *cols: tuple[str, str] | tuple[str, str, bool], fks: tuple[DeclaredKey, ...] = ()) -> DiscoveryTable:
    return DiscoveryTable(name, tuple(Column(c[0], c[1], primary_key=bool(c[2]) if len(c) > 2 else False)
                                      for c in cols), fks)


CUSTOMERS = t("customers", ("id", "INTEGER", True), ("name", "TEXT"))
ORDERS = t("orders", ("id", "INTEGER", True), ("customer_id", "INTEGER"), ("total", "NUMERIC(10, 2)"))
TICKETS = t("tickets", ("id", "INTEGER", True), ("customer_id", "INTEGER"))


def by_condition(proposals: list) -> dict[str, object]:  # type: ignore[type-arg]
    return {p.condition: p for p in proposals}


def test_name_and_type_match_finds_child_to_parent() -> None:
    found = by_condition(discover([CUSTOMERS, ORDERS]))
    p = found["orders.customer_id = customers.id"]
    assert p.kinds() == {EvidenceKind.NAME_MATCH}  # type: ignore[attr-defined]


def test_parent_key_named_after_the_table_matches_too() -> None:
    customers = t("customers", ("customer_id", "BIGINT", True), ("name", "TEXT"))
    found = by_condition(discover([customers, ORDERS]))
    assert "orders.customer_id = customers.customer_id" in found


def test_incompatible_types_do_not_match() -> None:
    orders = t("orders", ("id", "INTEGER", True), ("customer_id", "VARCHAR(20)"))
    assert discover([CUSTOMERS, orders]) == []


def test_shared_key_like_name_is_proposed_as_a_sibling() -> None:
    found = by_condition(discover([CUSTOMERS, ORDERS, TICKETS]))
    sibling = found["orders.customer_id = tickets.customer_id"]
    assert sibling.kinds() == {EvidenceKind.SHARED_NAME}  # type: ignore[attr-defined]


def test_shared_name_shared_by_too_many_tables_is_not_a_join() -> None:
    tables = [t(f"t{i}", ("id", "INTEGER", True), ("tenant_id", "INTEGER")) for i in range(20)]
    assert all(EvidenceKind.SHARED_NAME not in p.kinds() for p in discover(tables))


def test_declared_foreign_key_and_name_merge_into_one_proposal() -> None:
    orders = t("orders", ("id", "INTEGER", True), ("customer_id", "INTEGER"),
               fks=(DeclaredKey(("customer_id",), "customers", ("id",)),))
    [p] = discover([CUSTOMERS, orders])
    assert p.kinds() == {EvidenceKind.FOREIGN_KEY, EvidenceKind.NAME_MATCH}
    assert "declared foreign key" in " ".join(e.detail for e in p.evidence)


def test_observed_joins_count_queries_and_distinct_users() -> None:
    stores = t("stores", ("store_ref", "INTEGER"), ("city", "TEXT"))
    sales = t("sales", ("shop", "INTEGER"), ("amount", "NUMERIC"))
    observed = [ObservedJoin("sales", ("shop",), "stores", ("store_ref",), "a@x"),
                ObservedJoin("stores", ("STORE_REF",), "sales", ("shop",), "b@x"),
                ObservedJoin("sales", ("shop",), "stores", ("store_ref",), "a@x")]
    [p] = discover([stores, sales], observed)
    [e] = p.evidence
    assert (e.kind, e.count, e.users) == (EvidenceKind.OBSERVED, 3, 2)


def test_candidate_id_ignores_side_and_conjunct_order_and_case() -> None:
    a = candidate_id("orders", ("a", "b"), "lines", ("x", "y"))
    b = candidate_id("LINES", ("y", "x"), "orders", ("b", "a"))
    assert a == b and a.startswith("jc_")


def test_focus_keeps_only_proposals_touching_the_named_tables() -> None:
    found = discover([CUSTOMERS, ORDERS, TICKETS], focus=["tickets", "customers"])
    assert [p.condition for p in found] == ["tickets.customer_id = customers.id"]


def test_stems_and_type_families() -> None:
    assert stems("dim_categories") == ("dim_categories", "dim_category", "categories", "category")
    assert type_family("NUMERIC(10, 0)") == type_family("BIGINT") == "int"
    assert type_family("character varying(20)") == "text"
    assert type_family("INTERVAL") != "int"


def measured(**kw: int) -> Measurement:
    base = dict(left_rows=100, right_rows=10, left_null_rows=0, right_null_rows=0, left_distinct=10,
                right_distinct=10, inclusion_checked=10, inclusion_found=10, joined_rows=100, sample_size=1000)
    base.update(kw)
    return Measurement(**base)


def test_clean_key_with_full_overlap_scores_high_and_low_risk() -> None:
    [p] = discover([CUSTOMERS, ORDERS])
    s = score(p, measured())
    assert s.level == HIGH and s.risk == "LOW" and s.join_type == "INNER"
    assert measured().cardinality == MANY_TO_ONE
    assert "VALUE_INCLUSION" in {e.kind.value for e in s.evidence}


def test_name_match_without_overlap_scores_low() -> None:
    [p] = discover([CUSTOMERS, ORDERS])
    s = score(p, measured(inclusion_found=0, joined_rows=0))
    assert s.level == LOW and s.risk == "HIGH"


def test_nulls_over_ten_percent_are_flagged() -> None:
    [p] = discover([CUSTOMERS, ORDERS])
    s = score(p, measured(left_null_rows=30, joined_rows=70, left_distinct=10))
    assert "HIGH_NULL_PERCENTAGE" in s.flags and s.risk == "MEDIUM" and s.join_type == "LEFT"
    assert any("30 %" in a for a in s.assumptions)


def test_many_to_many_is_high_risk_and_fan_out_is_flagged() -> None:
    m = measured(left_rows=1000, right_rows=1000, left_distinct=5, right_distinct=5, inclusion_checked=5,
                 inclusion_found=5, joined_rows=200_000)
    assert m.cardinality == MANY_TO_MANY and m.fan_out == 200
    [p] = [x for x in discover([CUSTOMERS, ORDERS, TICKETS]) if "tickets.customer_id" in x.condition
           and "orders" in x.condition]
    s = score(p, m)
    assert s.risk == "HIGH" and "HIGH_FAN_OUT" in s.flags and s.level != HIGH


def test_unmeasured_is_never_high() -> None:
    orders = t("orders", ("id", "INTEGER", True), ("customer_id", "INTEGER"),
               fks=(DeclaredKey(("customer_id",), "customers", ("id",)),))
    [p] = discover([CUSTOMERS, orders])
    s = score(p, None)
    assert s.level == "MEDIUM" and s.risk == "MEDIUM"


def test_fingerprint_moves_with_evidence_not_with_noise() -> None:
    [p] = discover([CUSTOMERS, ORDERS])
    assert score(p, measured()).fingerprint == score(p, measured(left_rows=101, joined_rows=101)).fingerprint
    assert score(p, measured()).fingerprint != score(p, measured(inclusion_found=2)).fingerprint


def test_confidence_levels() -> None:
    assert [confidence_level(c) for c in (0.8, 0.79, 0.5, 0.49)] == ["HIGH", "MEDIUM", "MEDIUM", "LOW"]


def test_executed_join_conditions_are_read_back_through_aliases() -> None:
    from planner.join_observed import observed_join

    cols = {"orders": frozenset({"id", "customer_id"}), "customers": frozenset({"id", "name"})}
    o = observed_join("orders", "customers", "o.customer_id = c.id", "a@x", cols)
    assert o is not None and (o.left_columns, o.right_columns) == (("customer_id",), ("id",))
    flipped = observed_join("orders", "customers", "customers.id = orders.customer_id AND o.x > 1", "a@x", cols)
    assert flipped is not None and flipped.left_columns == ("customer_id",)
    assert observed_join("orders", "customers", "USING (id)", "a@x", cols) == ObservedJoin(
        "orders", ("id",), "customers", ("id",), "a@x")
    assert observed_join("orders", "customers", "a.id = b.id", "a@x", cols) is None  # cannot tell sides
    assert observed_join("orders", "customers", "NATURAL", "a@x", cols) is None
