"""find_join_paths: every shortest way over accepted joins, so ambiguity can be refused."""

from __future__ import annotations

from planner.catalog import AcceptedJoin
from planner.join_paths import find_join_paths


def j(id_: str, left: str, lc: str, right: str, rc: str) -> AcceptedJoin:
    return AcceptedJoin(id_, 1, left, (lc,), right, (rc,))


ORDERS_CUSTOMERS = j("j1", "orders", "customer_id", "customers", "id")
CUSTOMERS_REGIONS = j("j2", "customers", "region_id", "regions", "id")
ORDERS_STORES = j("j3", "orders", "store_id", "stores", "id")
STORES_REGIONS = j("j4", "stores", "region_id", "regions", "id")


def test_direct_join_is_the_only_path() -> None:
    [path] = find_join_paths(["orders", "customers"], [ORDERS_CUSTOMERS, CUSTOMERS_REGIONS])
    assert [s.join.id for s in path.steps] == ["j1"]
    assert path.tables == ("orders", "customers")


def test_chain_goes_through_the_middle_table() -> None:
    [path] = find_join_paths(["orders", "regions"], [ORDERS_CUSTOMERS, CUSTOMERS_REGIONS])
    assert [(s.from_table, s.to_table) for s in path.steps] == [("orders", "customers"), ("customers", "regions")]


def test_two_shortest_paths_are_both_returned() -> None:
    paths = find_join_paths(["orders", "regions"],
                            [ORDERS_CUSTOMERS, CUSTOMERS_REGIONS, ORDERS_STORES, STORES_REGIONS])
    assert sorted(sorted(s.join.id for s in p.steps) for p in paths) == [["j1", "j2"], ["j3", "j4"]]
    assert all("→" in p.describe() for p in paths)


def test_a_longer_path_is_not_an_alternative() -> None:
    direct = j("j5", "orders", "region_id", "regions", "id")
    [path] = find_join_paths(["orders", "regions"], [ORDERS_CUSTOMERS, CUSTOMERS_REGIONS, direct])
    assert [s.join.id for s in path.steps] == ["j5"]


def test_through_limits_intermediate_tables() -> None:
    joins = [ORDERS_CUSTOMERS, CUSTOMERS_REGIONS, ORDERS_STORES, STORES_REGIONS]
    [path] = find_join_paths(["orders", "regions"], joins, through={"customers"})
    assert [s.join.id for s in path.steps] == ["j1", "j2"]
    assert find_join_paths(["orders", "regions"], joins, through=set()) == []


def test_unconnected_tables_have_no_path() -> None:
    assert find_join_paths(["orders", "planets"], [ORDERS_CUSTOMERS]) == []


def test_three_tables_form_one_minimal_tree() -> None:
    [tree] = find_join_paths(["customers", "orders", "stores"],
                             [ORDERS_CUSTOMERS, ORDERS_STORES, CUSTOMERS_REGIONS, STORES_REGIONS])
    assert sorted(s.join.id for s in tree.steps) == ["j1", "j3"]


def test_one_table_needs_no_join() -> None:
    [path] = find_join_paths(["orders"], [ORDERS_CUSTOMERS])
    assert path.steps == ()
