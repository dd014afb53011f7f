"""A warehouse built for the join tests, on SQLite or PostgreSQL, with one table per trap.

    regions ◄── customers ◄── orders ──► stores ──► regions   (two paths orders → regions)
                              ▲    ▲
         tickets.customer_id ─┘    └── shipments.order_id (declared FK, 30 % NULL)
    sessions.legacy_account_id ↔ legacy_accounts.id           (names match, values never do)

- orders.customer_id → customers.id: a clean many-to-one key, found by name and type only;
- orders.customer_id ↔ tickets.customer_id: every value overlaps, but neither side is a key —
  the many-to-many trap;
- shipments.order_id → orders.id: a declared foreign key with 30 % NULLs;
- sessions.legacy_account_id → legacy_accounts.id: the names say yes, the data says no.
"""

from __future__ import annotations

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from gateway.store.engine import sync_url

DDL = (
    "CREATE TABLE regions (id INTEGER PRIMARY KEY, name VARCHAR(40) NOT NULL)",
    "CREATE TABLE customers (id INTEGER PRIMARY KEY, name VARCHAR(40) NOT NULL, region_id INTEGER)",
    "CREATE TABLE stores (id INTEGER PRIMARY KEY, city VARCHAR(40), region_id INTEGER)",
    "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, store_id INTEGER, total NUMERIC(10, 2))",
    "CREATE TABLE tickets (id INTEGER PRIMARY KEY, customer_id INTEGER, subject VARCHAR(40))",
    "CREATE TABLE shipments (id INTEGER PRIMARY KEY, order_id INTEGER REFERENCES orders (id), carrier VARCHAR(20))",
    "CREATE TABLE legacy_accounts (id INTEGER PRIMARY KEY, label VARCHAR(40))",
    "CREATE TABLE sessions (id INTEGER PRIMARY KEY, legacy_account_id INTEGER, started VARCHAR(20))",
)

TABLES = ("regions", "customers", "stores", "orders", "tickets", "shipments", "legacy_accounts", "sessions")


def rows() -> dict[str, list[dict[str, object]]]:
    return {
        "regions": [{"id": i, "name": f"region {i}"} for i in range(1, 6)],
        "customers": [{"id": i, "name": f"customer {i}", "region_id": i % 5 + 1} for i in range(1, 51)],
        "stores": [{"id": i, "city": f"city {i}", "region_id": i % 5 + 1} for i in range(1, 11)],
        "orders": [{"id": i, "customer_id": i % 50 + 1, "store_id": i % 10 + 1, "total": i * 1.5}
                   for i in range(1, 501)],
        "tickets": [{"id": i, "customer_id": i % 50 + 1, "subject": f"help {i}"} for i in range(1, 301)],
        "shipments": [{"id": i, "order_id": i if i % 10 >= 3 else None, "carrier": "post"}
                      for i in range(1, 201)],
        "legacy_accounts": [{"id": i, "label": f"acct {i}"} for i in range(1, 21)],
        "sessions": [{"id": i, "legacy_account_id": 5000 + i, "started": "2024-01-01"} for i in range(1, 101)],
    }


def build_join_warehouse(url: str) -> None:
    engine = create_engine(sync_url(url), poolclass=NullPool)
    data = rows()
    with engine.begin() as conn:
        for statement in DDL:
            conn.execute(text(statement))
        for table in TABLES:
            batch = data[table]
            columns = list(batch[0])
            conn.execute(text(f"INSERT INTO {table} ({', '.join(columns)}) "
                              f"VALUES ({', '.join(':' + c for c in columns)})"), batch)
    engine.dispose()
