"""Join paths over accepted joins: every shortest way to connect a set of tables.

Pure. A structured query names columns of several tables without writing joins; the planner
needs the joins that connect them. This module returns *all* the minimal ways to do it, so the
caller can refuse with the alternatives when there is more than one, never picking silently.

"Minimal" is the fewest joins. For two tables that is every shortest path (breadth-first
search keeping every parent at the same depth). For more tables each requested table is tried
as the root: the union of its shortest paths to the others is a connecting tree, and the
smallest distinct trees found are the answer (exact for the star and chain shapes analysts
ask for; a true Steiner search is not worth its cost here).
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from planner.catalog import AcceptedJoin

MAX_PATHS = 16


@dataclass(frozen=True, slots=True)
class JoinStep:
    join: AcceptedJoin
    from_table: str
    to_table: str

    def describe(self) -> str:
        return f"{self.from_table} → {self.to_table} ({self.join.id} v{self.join.version})"


@dataclass(frozen=True, slots=True)
class JoinPath:
    steps: tuple[JoinStep, ...]

    @property
    def tables(self) -> tuple[str, ...]:
        seen: list[str] = []
        for step in self.steps:
            for t in (step.from_table, step.to_table):
                if t not in seen:
                    seen.append(t)
        return tuple(seen)

    @property
    def join_ids(self) -> frozenset[tuple[str, int]]:
        return frozenset((s.join.id, s.join.version) for s in self.steps)

    def describe(self) -> str:
        return ", ".join(s.describe() for s in self.steps) or "(no join needed)"


Edge = tuple[str, AcceptedJoin]


def _graph(joins: Iterable[AcceptedJoin], through: Collection[str] | None,
           endpoints: frozenset[str]) -> dict[str, list[Edge]]:
    allowed = None if through is None else {t.lower() for t in through} | endpoints
    graph: dict[str, list[Edge]] = {}
    for j in joins:
        a, b = j.left_table.lower(), j.right_table.lower()
        if a == b or (allowed is not None and (a not in allowed or b not in allowed)):
            continue
        graph.setdefault(a, []).append((b, j))
        graph.setdefault(b, []).append((a, j))
    for edges in graph.values():  # deterministic order whatever order the joins came in
        edges.sort(key=lambda e: (e[0], e[1].id, e[1].version))
    return graph


def shortest_paths(graph: dict[str, list[Edge]], start: str, goal: str,
                   limit: int = MAX_PATHS) -> list[tuple[JoinStep, ...]]:
    """Every shortest path from ``start`` to ``goal`` (at most ``limit``)."""
    if start == goal:
        return [()]
    depth = {start: 0}
    parents: dict[str, list[tuple[str, AcceptedJoin]]] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if goal in depth and depth[node] >= depth[goal]:
            break
        for neighbour, join in graph.get(node, ()):
            if neighbour not in depth:
                depth[neighbour] = depth[node] + 1
                queue.append(neighbour)
            if depth[neighbour] == depth[node] + 1:
                parents.setdefault(neighbour, []).append((node, join))
    if goal not in depth:
        return []
    paths: list[tuple[JoinStep, ...]] = []

    def walk(node: str, suffix: tuple[JoinStep, ...]) -> None:
        if len(paths) >= limit:
            return
        if node == start:
            paths.append(suffix)
            return
        for parent, join in parents.get(node, ()):
            walk(parent, (JoinStep(join, parent, node), *suffix))

    walk(goal, ())
    return paths


def find_join_paths(tables: Iterable[str], accepted_joins: Iterable[AcceptedJoin], *,
                    through: Collection[str] | None = None, limit: int = MAX_PATHS) -> list[JoinPath]:
    """All minimal join paths connecting ``tables`` over ``accepted_joins``.

    ``through`` names the tables a path may pass through (the auto-joined ones); the requested
    tables themselves are always allowed. An empty list means the tables cannot be connected;
    more than one path means the choice is ambiguous and must be made by the analyst.
    """
    wanted = list(dict.fromkeys(t.lower() for t in tables))
    if len(wanted) < 2:
        return [JoinPath(())]
    graph = _graph(accepted_joins, through, frozenset(wanted))
    trees: dict[frozenset[tuple[str, int, str, str]], JoinPath] = {}
    for root in wanted:
        per_target = [shortest_paths(graph, root, t, limit) for t in wanted if t != root]
        if any(not options for options in per_target):
            return []
        for combination in itertools.islice(itertools.product(*per_target), limit * 4):
            steps: list[JoinStep] = []
            seen: set[tuple[str, int]] = set()
            for path in combination:
                for step in path:
                    if (step.join.id, step.join.version) not in seen:
                        seen.add((step.join.id, step.join.version))
                        steps.append(step)
            key = frozenset((s.join.id, s.join.version, min(s.from_table, s.to_table),
                             max(s.from_table, s.to_table)) for s in steps)
            trees.setdefault(key, JoinPath(tuple(steps)))
    if not trees:
        return []
    fewest = min(len(p.steps) for p in trees.values())
    best = [p for p in trees.values() if len(p.steps) == fewest]
    best.sort(key=lambda p: [(s.join.id, s.join.version) for s in p.steps])
    return best[:limit]
