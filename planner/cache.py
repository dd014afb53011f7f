"""PlanCache: an LRU of plans keyed by everything a plan depends on, including the catalog epoch."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

from planner.model import PlanOptions

Planned = TypeVar("Planned")


class PlanCache(Generic[Planned]):
    """Plans by (normalised SQL, dialect, warehouse dialect, pins, may_view_shadow, max_rows, epoch).

    The catalog epoch changes whenever a version flips, so a stale plan is never a hit. What is
    cached is a :class:`Plan`, or whatever a caller keeps made from one alongside it.
    """

    def __init__(self, maxsize: int = 1024) -> None:
        self.maxsize = maxsize
        self._plans: OrderedDict[Hashable, Planned] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(sql: str, options: PlanOptions, epoch: int) -> Hashable:
        # Only outer whitespace is normalised: anything inside may be part of a string literal.
        return (sql.strip(), options.read_dialect, options.warehouse_dialect,
                tuple(sorted((p.table.lower(), p.version) for p in options.pins)),
                options.may_view_shadow, options.max_rows, options.max_sql_bytes, options.thresholds, epoch)

    def get(self, sql: str, options: PlanOptions, epoch: int = 0) -> Planned | None:
        key = self.key(sql, options, epoch)
        with self._lock:
            found = self._plans.get(key)
            if found is None:
                self.misses += 1
                return None
            self._plans.move_to_end(key)
            self.hits += 1
            return found

    def put(self, sql: str, options: PlanOptions, epoch: int, plan: Planned) -> None:
        key = self.key(sql, options, epoch)
        with self._lock:
            self._plans[key] = plan
            self._plans.move_to_end(key)
            while len(self._plans) > self.maxsize:
                self._plans.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._plans.clear()

    def __len__(self) -> int:
        return len(self._plans)
