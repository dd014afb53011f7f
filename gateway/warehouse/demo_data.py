"""The demo sample warehouse: a small shop (customers, products, orders, order items) in SQLite.

``make demo`` calls :func:`generate_demo_warehouse`; the demo loader then registers what the
returned :class:`DemoSummary` lists, so that the catalog shows one table in each of the four
states on first start:

    customers        v1  READ_ONLY   customers                         (external)
    products         v1  READ_ONLY   products                          (external)
    order_items      v1  READ_ONLY   order_items                       (external)
    orders           v1  DEPRECATED  orders__v1     older subset, no ``total`` column
                     v2  ACTIVE      orders__v2
    order_events     v1  SHADOW      spyne_shadow__order_events__v1    small staging table

Physical names follow the warehouse convention: gateway-managed version N of ``t`` lives in
``t__vN``; on SQLite a shadow version also carries the reserved ``spyne_shadow__`` prefix
(PostgreSQL uses a schema instead). External READ_ONLY tables keep their own names.

Data is deterministic for a seed: timestamps are anchored to a fixed date, never to the clock,
so two runs with the same seed write identical rows. Speed comes from the stdlib ``sqlite3``,
one ``executemany`` per table in one transaction, and indexes built after the load.
"""

from __future__ import annotations

import os
import random
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gateway.domain import TableState
from gateway.warehouse.naming import SHADOW_PREFIX
from gateway.warehouse.naming import managed_name as _managed_name

# A fixed anchor keeps the data reproducible; two years of history end here.
HISTORY_END = datetime(2025, 6, 30, 23, 59, 59, tzinfo=UTC)
HISTORY_DAYS = 730
# orders__v1 is the copy taken a year before the end: orders placed before this instant.
V1_CUTOFF = HISTORY_END - timedelta(days=365)

BASE_COUNTS = {"customers": 20_000, "products": 2_000, "orders": 100_000}
ITEMS_PER_ORDER = (1, 2, 2, 3, 3, 3, 4, 4, 5, 6)  # averages 3.3 items per order
EVENT_ORDERS = 600  # how many recent orders the shadow staging table has events for

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class DemoVersion:
    version: int
    state: TableState  # the state the loader should register this version in
    physical_name: str
    row_count: int


@dataclass(frozen=True, slots=True)
class DemoTable:
    name: str  # the logical name
    description: str
    versions: tuple[DemoVersion, ...]


@dataclass(frozen=True, slots=True)
class DemoSummary:
    path: Path
    seed: int
    scale: float
    tables: tuple[DemoTable, ...]
    elapsed_s: float

    @property
    def row_counts(self) -> dict[str, int]:
        """Rows per physical table."""
        return {v.physical_name: v.row_count for t in self.tables for v in t.versions}

    @property
    def total_rows(self) -> int:
        return sum(self.row_counts.values())

    def table(self, name: str) -> DemoTable:
        return next(t for t in self.tables if t.name == name)


def managed_name(table: str, version: int, *, shadow: bool = False) -> str:
    return (SHADOW_PREFIX if shadow else "") + _managed_name(table, version)


_SCHEMA = f"""
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    country TEXT NOT NULL,
    segment TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE products (
    id INTEGER PRIMARY KEY,
    sku TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    price NUMERIC(10, 2) NOT NULL,
    cost NUMERIC(10, 2) NOT NULL,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE {managed_name("orders", 1)} (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    status TEXT NOT NULL,
    ordered_at TIMESTAMP NOT NULL
);
CREATE TABLE {managed_name("orders", 2)} (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    status TEXT NOT NULL,
    channel TEXT NOT NULL,
    ordered_at TIMESTAMP NOT NULL,
    total NUMERIC(12, 2) NOT NULL
);
CREATE TABLE order_items (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES {managed_name("orders", 2)} (id),
    product_id INTEGER NOT NULL REFERENCES products (id),
    quantity INTEGER NOT NULL,
    unit_price NUMERIC(10, 2) NOT NULL
);
CREATE TABLE {managed_name("order_events", 1, shadow=True)} (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL,
    event_type TEXT NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    source TEXT NOT NULL
);
"""

# Built after the load: cheaper than maintaining them row by row.
_INDEXES = f"""
CREATE INDEX ix_orders_v2_customer_id ON {managed_name("orders", 2)} (customer_id);
CREATE INDEX ix_orders_v2_ordered_at ON {managed_name("orders", 2)} (ordered_at);
CREATE INDEX ix_orders_v1_customer_id ON {managed_name("orders", 1)} (customer_id);
CREATE INDEX ix_order_items_order_id ON order_items (order_id);
CREATE INDEX ix_order_items_product_id ON order_items (product_id);
"""

_FIRST = (
    "Ada", "Alan", "Amara", "Ana", "Arjun", "Ben", "Carla", "Chen", "Chloe", "Dara", "David", "Elena",
    "Emil", "Eva", "Farah", "Felix", "Grace", "Hana", "Hugo", "Ines", "Ivan", "Jana", "Jonas", "Kai",
    "Kenji", "Lara", "Leo", "Lina", "Luca", "Maya", "Mehmet", "Mia", "Nadia", "Noah", "Nora", "Omar",
    "Paula", "Priya", "Rafael", "Rosa", "Sam", "Sara", "Sofia", "Tariq", "Theo", "Uma", "Victor",
    "Yara", "Yusuf", "Zoe"
)
_LAST = (
    "Abbott", "Alvarez", "Bauer", "Becker", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad",
    "Ito", "Jansen", "Kim", "Kowalski", "Larsen", "Lopez", "Martin", "Moreau", "Nakamura", "Novak",
    "Okafor", "Olsen", "Patel", "Petrov", "Rossi", "Santos", "Schmidt", "Silva", "Singh", "Smith",
    "Tanaka", "Weber", "Wong", "Yilmaz", "Zhang"
)
# (country, weight): a shop selling mostly in Europe and North America.
_COUNTRIES = (("US", 30), ("DE", 14), ("GB", 12), ("FR", 10), ("NL", 6), ("ES", 6), ("IT", 5),
              ("CA", 5), ("SE", 3), ("PL", 3), ("JP", 3), ("BR", 2), ("IN", 1))
_SEGMENTS = (("consumer", 80), ("small_business", 15), ("enterprise", 5))
# (category, price range)
_CATEGORIES = (("books", 8, 45), ("electronics", 25, 900), ("home", 10, 250), ("garden", 6, 180),
               ("toys", 5, 120), ("sports", 12, 400), ("beauty", 4, 90), ("grocery", 2, 30),
               ("office", 3, 150), ("apparel", 9, 200))
_ADJECTIVES = (
    "Classic", "Compact", "Deluxe", "Eco", "Essential", "Everyday", "Nordic", "Pro", "Smart", "Ultra",
    "Vintage", "Wireless"
)
_NOUNS = {
    "books": "Novel Cookbook Atlas Guide Anthology Journal",
    "electronics": "Headphones Speaker Charger Monitor Keyboard Router",
    "home": "Lamp Blanket Kettle Vase Pillow Mirror",
    "garden": "Planter Hose Shears Seeds Trowel Lantern",
    "toys": "Puzzle Robot Blocks Kite Doll Racer",
    "sports": "Racket Mat Bottle Helmet Ball Gloves",
    "beauty": "Serum Balm Cream Soap Brush Oil",
    "grocery": "Coffee Tea Honey Olive-Oil Granola Chocolate",
    "office": "Notebook Pen Stapler Organizer Desk-Lamp Planner",
    "apparel": "Jacket Scarf Sneakers Hoodie Cap Socks",
}
_CHANNELS = (("web", 60), ("mobile", 30), ("marketplace", 10))


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _weighted(rng: random.Random, pairs: tuple[tuple[str, int], ...], k: int) -> list[str]:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs], k=k)


def _status(rng: random.Random, age_days: float) -> str:
    # Recent orders are still moving; old ones are settled.
    if age_days < 2:
        return rng.choice(("pending", "paid", "paid"))
    if age_days < 7:
        return rng.choice(("paid", "shipped", "shipped", "delivered"))
    roll = rng.random()
    return "cancelled" if roll < 0.04 else "refunded" if roll < 0.07 else "delivered"


def _customers(rng: random.Random, n: int) -> Iterator[tuple[object, ...]]:
    countries = _weighted(rng, _COUNTRIES, n)
    segments = _weighted(rng, _SEGMENTS, n)
    start = HISTORY_END - timedelta(days=HISTORY_DAYS)
    for i in range(n):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        # Sign-ups grow over time: a power below one skews them toward the recent end.
        created = start + timedelta(seconds=int(HISTORY_DAYS * 86400 * rng.random() ** 0.7))
        email = f"{first}.{last}.{i + 1}@example.com".lower()
        yield (i + 1, f"{first} {last}", email, countries[i], segments[i], _iso(created))


def _products(rng: random.Random, n: int) -> Iterator[tuple[object, ...]]:
    # The range predates the order history, so every product exists before anyone buys it.
    opened = HISTORY_END - timedelta(days=HISTORY_DAYS)
    for i in range(n):
        category, low, high = _CATEGORIES[i % len(_CATEGORIES)]
        price = round(low + (high - low) * rng.random() ** 2, 2)
        name = f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS[category].split())}".replace("-", " ")
        created = opened - timedelta(seconds=rng.randrange(60, 540 * 86400))
        sku = f"{category[:3].upper()}-{i + 1:06d}"
        yield (i + 1, sku, name, category, price, round(price * rng.uniform(0.4, 0.75), 2),
               rng.random() > 0.05, _iso(created))


def _orders_and_items(
    rng: random.Random, n_orders: int, customers: list[tuple[object, ...]], prices: list[float]
) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    # Order times grow toward the end (a growing shop); customers and products are skewed:
    # a few are far more popular, which is what makes joins on them interesting.
    offsets = sorted(HISTORY_DAYS * 86400 * rng.random() ** 0.8 for _ in range(n_orders))
    start = HISTORY_END - timedelta(days=HISTORY_DAYS)
    n_products = len(prices)
    product_weights = [1.0 / (1 + (i % 97)) ** 0.9 for i in range(n_products)]
    product_ids = rng.choices(range(1, n_products + 1), weights=product_weights, k=4 * n_orders)
    channels = _weighted(rng, _CHANNELS, n_orders)
    # Each customer can only order after signing up: draw among those signed up by then.
    signups = sorted((str(c[5]), int(str(c[0]))) for c in customers)
    orders: list[tuple[object, ...]] = []
    items: list[tuple[object, ...]] = []
    first_signup = datetime.fromisoformat(signups[0][0])
    next_product, signed_up = 0, 0
    for i, offset in enumerate(offsets):
        moment = max(start + timedelta(seconds=int(offset)), first_signup)
        stamp = _iso(moment)
        while signed_up < len(signups) and signups[signed_up][0] <= stamp:
            signed_up += 1
        pool = max(signed_up, 1)
        customer_id = signups[min(int(pool * rng.random() ** 1.3), pool - 1)][1]
        total = 0.0
        for _ in range(rng.choice(ITEMS_PER_ORDER)):
            product_id = product_ids[next_product % len(product_ids)]
            next_product += 1
            quantity = 1 if rng.random() < 0.7 else rng.randint(2, 4)
            unit_price = prices[product_id - 1]
            total += quantity * unit_price
            items.append((len(items) + 1, i + 1, product_id, quantity, unit_price))
        age_days = (HISTORY_END - moment).total_seconds() / 86400
        orders.append((i + 1, customer_id, _status(rng, age_days), channels[i], stamp, round(total, 2)))
    return orders, items


def _events(rng: random.Random, orders: list[tuple[object, ...]], n: int) -> Iterator[tuple[object, ...]]:
    flow = ("created", "paid", "shipped", "delivered")
    event_id = 0
    for order in orders[-n:]:
        moment = datetime.fromisoformat(str(order[4]))
        for event_type in flow[: rng.randint(1, len(flow))]:
            event_id += 1
            yield (event_id, order[0], event_type, _iso(moment), rng.choice(("checkout", "psp", "wms")))
            moment += timedelta(minutes=rng.randint(5, 3000))


def sqlite_path(url_or_path: str) -> Path:
    """The file behind ``sqlite:///x.db``, ``sqlite+aiosqlite:////abs/x.db`` or a plain path."""
    if "://" not in url_or_path:
        return Path(url_or_path)
    scheme, _, rest = url_or_path.partition("://")
    if scheme.split("+")[0] != "sqlite" or not rest.startswith("/") or rest in ("/", "/:memory:"):
        raise ValueError(f"the demo warehouse is a SQLite file; got {scheme}:// — use sqlite:///path/to/file.db")
    return Path(rest[1:].split("?")[0])


def generate_demo_warehouse(
    url_or_path: str, *, seed: int = 7, scale: float = 1.0, progress: Progress | None = None
) -> DemoSummary:
    """Write the demo warehouse, replacing any previous one, and say what it holds.

    The file is built beside the target and renamed over it at the end, so a reader never sees
    half a warehouse.
    """
    if scale <= 0:
        raise ValueError("scale must be positive")
    say = progress or (lambda _message: None)
    began = time.perf_counter()
    target = sqlite_path(url_or_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    building = target.with_name(target.name + ".building")
    for leftover in (building, Path(f"{building}-journal")):
        leftover.unlink(missing_ok=True)

    rng = random.Random(seed)
    n_customers, n_products, n_orders = (max(10, round(BASE_COUNTS[k] * scale)) for k in BASE_COUNTS)
    conn = sqlite3.connect(building, isolation_level=None)
    try:
        # The file is private until renamed, so durability during the load buys nothing.
        conn.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-65536;")
        conn.executescript(_SCHEMA)
        counts: dict[str, int] = {}

        def load(table: str, rows: list[tuple[object, ...]]) -> None:
            started = time.perf_counter()
            if rows:
                marks = ", ".join("?" * len(rows[0]))
                conn.execute("BEGIN")
                conn.executemany(f'INSERT INTO "{table}" VALUES ({marks})', rows)
                conn.execute("COMMIT")
            counts[table] = len(rows)
            say(f"  {table:<34} {len(rows):>8,} rows  {time.perf_counter() - started:5.2f}s")

        say(f"generating the demo warehouse at {target} (seed {seed}, scale {scale:g})")
        customers = list(_customers(rng, n_customers))
        load("customers", customers)
        products = list(_products(rng, n_products))
        load("products", products)
        orders, items = _orders_and_items(rng, n_orders, customers, [float(str(p[4])) for p in products])
        load(managed_name("orders", 2), orders)
        load("order_items", items)
        v1 = [(*o[:3], o[4]) for o in orders if str(o[4]) < _iso(V1_CUTOFF)]
        load(managed_name("orders", 1), v1)
        events = list(_events(rng, orders, max(5, round(EVENT_ORDERS * scale))))
        load(managed_name("order_events", 1, shadow=True), events)

        started = time.perf_counter()
        conn.executescript(_INDEXES)
        conn.execute("ANALYZE")  # row estimates for the planner and for introspection
        say(f"  indexes and statistics                       {time.perf_counter() - started:5.2f}s")
        conn.execute("PRAGMA journal_mode=WAL")  # persistent: readers and the writer coexist
    finally:
        conn.close()
    for stale in (Path(f"{target}-wal"), Path(f"{target}-shm")):
        stale.unlink(missing_ok=True)
    os.replace(building, target)

    summary = DemoSummary(
        path=target, seed=seed, scale=scale, tables=_catalog_plan(counts), elapsed_s=time.perf_counter() - began
    )
    say(f"demo warehouse ready: {summary.total_rows:,} rows in {summary.elapsed_s:.2f}s")
    return summary


def _catalog_plan(counts: dict[str, int]) -> tuple[DemoTable, ...]:
    def version(n: int, state: TableState, physical: str) -> DemoVersion:
        return DemoVersion(n, state, physical, counts[physical])

    ro = TableState.READ_ONLY
    return (
        DemoTable("customers", "People who signed up to the shop.", (version(1, ro, "customers"),)),
        DemoTable("products", "The product range with list prices.", (version(1, ro, "products"),)),
        DemoTable(
            "orders",
            "One row per order; v2 added the order total and sales channel.",
            (
                version(1, TableState.DEPRECATED, managed_name("orders", 1)),
                version(2, TableState.ACTIVE, managed_name("orders", 2)),
            ),
        ),
        DemoTable("order_items", "Order lines: which product, how many, at what price.",
                  (version(1, ro, "order_items"),)),
        DemoTable(
            "order_events",
            "Order lifecycle events being staged before promotion.",
            (version(1, TableState.SHADOW, managed_name("order_events", 1, shadow=True)),),
        ),
    )


if __name__ == "__main__":
    generate_demo_warehouse(sys.argv[1] if len(sys.argv) > 1 else ".spyne/warehouse.db", progress=print)
