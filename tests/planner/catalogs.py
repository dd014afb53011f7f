"""Hand-built catalogs for the planner tests: TPC-H, and a small shop with every table state."""

from __future__ import annotations

from pathlib import Path

from planner.catalog import AcceptedJoin, CatalogSnapshot, Column, TableVersion


def _cols(spec: str, pk: tuple[str, ...]) -> tuple[Column, ...]:
    cols = []
    for item in spec.split(","):
        name, type_ = item.split()
        cols.append(Column(name, type_, nullable=name not in pk, primary_key=name in pk))
    return tuple(cols)


# TPC-H at scale factor 1: row counts as the specification gives them.
TPCH_TABLES: dict[str, tuple[str, tuple[str, ...], int]] = {
    "region": ("r_regionkey INTEGER,r_name TEXT,r_comment TEXT", ("r_regionkey",), 5),
    "nation": ("n_nationkey INTEGER,n_name TEXT,n_regionkey INTEGER,n_comment TEXT", ("n_nationkey",), 25),
    "supplier": ("s_suppkey INTEGER,s_name TEXT,s_address TEXT,s_nationkey INTEGER,s_phone TEXT,"
                 "s_acctbal REAL,s_comment TEXT", ("s_suppkey",), 10_000),
    "customer": ("c_custkey INTEGER,c_name TEXT,c_address TEXT,c_nationkey INTEGER,c_phone TEXT,"
                 "c_acctbal REAL,c_mktsegment TEXT,c_comment TEXT", ("c_custkey",), 150_000),
    "part": ("p_partkey INTEGER,p_name TEXT,p_mfgr TEXT,p_brand TEXT,p_type TEXT,p_size INTEGER,"
             "p_container TEXT,p_retailprice REAL,p_comment TEXT", ("p_partkey",), 200_000),
    "partsupp": ("ps_partkey INTEGER,ps_suppkey INTEGER,ps_availqty INTEGER,ps_supplycost REAL,ps_comment TEXT",
                 ("ps_partkey", "ps_suppkey"), 800_000),
    "orders": ("o_orderkey INTEGER,o_custkey INTEGER,o_orderstatus TEXT,o_totalprice REAL,o_orderdate TEXT,"
               "o_orderpriority TEXT,o_clerk TEXT,o_shippriority INTEGER,o_comment TEXT", ("o_orderkey",),
               1_500_000),
    "lineitem": ("l_orderkey INTEGER,l_partkey INTEGER,l_suppkey INTEGER,l_linenumber INTEGER,l_quantity REAL,"
                 "l_extendedprice REAL,l_discount REAL,l_tax REAL,l_returnflag TEXT,l_linestatus TEXT,"
                 "l_shipdate TEXT,l_commitdate TEXT,l_receiptdate TEXT,l_shipinstruct TEXT,l_shipmode TEXT,"
                 "l_comment TEXT", ("l_orderkey", "l_linenumber"), 6_001_215),
}

# The foreign keys of the specification, accepted as joins (many side on the left).
TPCH_JOINS = (
    AcceptedJoin("j-nation-region", 1, "nation", ("n_regionkey",), "region", ("r_regionkey",), "INNER", "MANY_TO_ONE"),
    AcceptedJoin("j-supplier-nation", 1, "supplier", ("s_nationkey",), "nation", ("n_nationkey",), "INNER",
                 "MANY_TO_ONE"),
    AcceptedJoin("j-customer-nation", 1, "customer", ("c_nationkey",), "nation", ("n_nationkey",), "INNER",
                 "MANY_TO_ONE"),
    AcceptedJoin("j-partsupp-part", 1, "partsupp", ("ps_partkey",), "part", ("p_partkey",), "INNER", "MANY_TO_ONE", 4.0),
    AcceptedJoin("j-partsupp-supplier", 1, "partsupp", ("ps_suppkey",), "supplier", ("s_suppkey",), "INNER",
                 "MANY_TO_ONE", 80.0),
    AcceptedJoin("j-orders-customer", 1, "orders", ("o_custkey",), "customer", ("c_custkey",), "INNER", "MANY_TO_ONE",
                 10.0),
    AcceptedJoin("j-lineitem-orders", 1, "lineitem", ("l_orderkey",), "orders", ("o_orderkey",), "INNER",
                 "MANY_TO_ONE", 4.0),
    AcceptedJoin("j-lineitem-part", 1, "lineitem", ("l_partkey",), "part", ("p_partkey",), "INNER", "MANY_TO_ONE", 30.0),
    AcceptedJoin("j-lineitem-supplier", 1, "lineitem", ("l_suppkey",), "supplier", ("s_suppkey",), "INNER",
                 "MANY_TO_ONE", 600.0),
    AcceptedJoin("j-lineitem-partsupp", 1, "lineitem", ("l_partkey", "l_suppkey"), "partsupp",
                 ("ps_partkey", "ps_suppkey"), "INNER", "MANY_TO_ONE", 7.5),
)


def tpch_physical(name: str) -> str:
    return f"tpch_{name}"


def tpch_catalog(epoch: int = 1) -> CatalogSnapshot:
    versions = [TableVersion(name, 1, "ACTIVE", tpch_physical(name), _cols(spec, pk), rows)
                for name, (spec, pk, rows) in TPCH_TABLES.items()]
    return CatalogSnapshot.of(versions, TPCH_JOINS, epoch=epoch)


_ORDER_COLS = "o_id INTEGER,customer_id INTEGER,amount REAL,status TEXT,ordered_at TEXT"


def shop_catalog(epoch: int = 1) -> CatalogSnapshot:
    """Every state: orders v1 DEPRECATED, v2 ACTIVE, v3 SHADOW; READ_ONLY, shadow-only and deprecated-only tables."""
    versions = [
        TableVersion("customers", 1, "ACTIVE", "customers",
                     _cols("c_id INTEGER,name TEXT,email TEXT,country TEXT,created_at TEXT", ("c_id",)), 50_000),
        TableVersion("orders", 1, "DEPRECATED", "orders", _cols(_ORDER_COLS, ("o_id",)), 2_400_000),
        TableVersion("orders", 2, "ACTIVE", "orders__v2", _cols(_ORDER_COLS, ("o_id",)), 2_500_000),
        TableVersion("orders", 3, "SHADOW", "spyne_shadow.orders__v3", _cols(_ORDER_COLS, ("o_id",)), 2_500_000),
        TableVersion("order_items", 1, "ACTIVE", "order_items",
                     _cols("order_id INTEGER,product_id INTEGER,quantity INTEGER,price REAL", ()), 9_000_000),
        TableVersion("products", 1, "READ_ONLY", "warehouse.products",
                     _cols("p_id INTEGER,name TEXT,category TEXT,price REAL", ("p_id",)), 1_000),
        TableVersion("events", 1, "READ_ONLY", "events", _cols("e_id INTEGER,kind TEXT,at TEXT", ("e_id",)), 500),
        TableVersion("events", 2, "READ_ONLY", "events_2024", _cols("e_id INTEGER,kind TEXT,at TEXT", ("e_id",)), 700),
        TableVersion("legacy", 1, "DEPRECATED", "legacy_events", _cols("id INTEGER,note TEXT", ("id",)), 10),
        TableVersion("drafts", 1, "SHADOW", "spyne_shadow.drafts__v1", _cols("id INTEGER,body TEXT", ("id",)), 10),
        TableVersion("regions", 1, "ACTIVE", "regions", _cols("code TEXT,label TEXT", ()), None),
    ]
    joins = (
        AcceptedJoin("j-orders-customers", 2, "orders", ("customer_id",), "customers", ("c_id",), "INNER",
                     "MANY_TO_ONE", 50.0),
        AcceptedJoin("j-items-orders", 1, "order_items", ("order_id",), "orders", ("o_id",), "INNER",
                     "MANY_TO_ONE", 3.6),
    )
    return CatalogSnapshot.of(versions, joins, epoch=epoch)


# The corpus ships with the repository (tests/data/tpch/), so a clone with nothing beside it runs the suite.
TPCH_QUERIES = Path(__file__).resolve().parents[1] / "data" / "tpch" / "queries.sql"


def tpch_queries(path: Path = TPCH_QUERIES) -> list[tuple[int, str]]:
    """The 22 TPC-H queries as (number, sql)."""
    found: list[tuple[int, str]] = []
    for chunk in Path(path).read_text().split("-- TPC-H ")[1:]:
        number, _, body = chunk.partition("\n")
        found.append((int(number), body.strip().rstrip(";").strip()))
    return found
