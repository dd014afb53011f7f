"""Joins: what joins what in each SELECT, normalised and matched against accepted joins.

Explicit ``JOIN … ON`` and implicit comma joins linked by WHERE predicates both become
:class:`JoinInfo`. A FROM clause whose sources do not form one connected graph gets a ``CROSS``
join for each extra component: that is a cartesian product, whatever the syntax.

Matching is by the set of column-equality pairs, each pair sorted and each side named by its
logical table, so side order, conjunct order and aliases do not matter.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from planner.catalog import AcceptedJoin
from planner.scopes import Scope, Source, local_columns

Pair = tuple[tuple[str, str], tuple[str, str]]

ONE_TO_ONE, ONE_TO_MANY, MANY_TO_ONE, MANY_TO_MANY = "ONE_TO_ONE", "ONE_TO_MANY", "MANY_TO_ONE", "MANY_TO_MANY"
_FLIP = {ONE_TO_MANY: MANY_TO_ONE, MANY_TO_ONE: ONE_TO_MANY}


@dataclass(slots=True)
class JoinInfo:
    scope: Scope
    left: Source
    right: Source
    join_type: str  # INNER, LEFT, RIGHT, FULL, CROSS
    conjuncts: list[exp.Expr]
    node: exp.Join | None  # the JOIN item that brought ``right`` in, when explicit
    explicit: bool  # an ON/USING/NATURAL join, as opposed to a comma join linked in WHERE
    linked: bool  # has a predicate connecting the two sides
    pairs: frozenset[Pair] = frozenset()
    accepted: AcceptedJoin | None = None
    cardinality: str | None = None  # from left to right
    using: tuple[str, ...] = ()


def extract_joins(scope: Scope) -> tuple[list[JoinInfo], set[int]]:
    """The joins of one SELECT, and the ids of WHERE conjuncts that are join links."""
    sources = scope.sources
    parent = list(range(len(sources)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(a: Source, b: Source) -> None:
        parent[root(sources.index(a))] = root(sources.index(b))

    infos: list[JoinInfo] = []
    implicit: dict[int, exp.Join] = {}
    for i, node in enumerate(scope.select.args.get("joins") or ()):
        right = sources[i + 1]
        join_type = _join_type(node)
        on, using = node.args.get("on"), node.args.get("using")
        if on is not None:
            parts: list[exp.Expr] = list(on.flatten()) if isinstance(on, exp.And) else [on]
            others = [s for s in scope.sources_of(on) if s is not right]
            for other in others:
                union(other, right)
            if others:
                infos.append(JoinInfo(scope, others[0], right, join_type, parts, node, True, True))
            else:  # ON TRUE, or ON with one-sided predicates only: left to the component check
                implicit[i + 1] = node
        elif using or node.args.get("method") == "NATURAL":
            names = tuple(c.name.lower() for c in using or ())
            left = next((s for s in sources[: i + 1] if s.columns and set(names) <= s.columns), sources[i])
            union(left, right)
            infos.append(JoinInfo(scope, left, right, join_type, [], node, True, True,
                                  pairs=frozenset(_pair(left, n, right, n) for n in names), using=names))
        else:
            implicit[i + 1] = node

    links: set[int] = set()
    grouped: dict[tuple[int, int], list[exp.Expr]] = {}
    for conjunct in scope.where:
        touched = scope.sources_of(conjunct)
        if len(touched) < 2:
            continue
        links.add(id(conjunct))
        indexes = sorted(sources.index(s) for s in touched)
        for index in indexes[1:]:
            union(sources[indexes[0]], sources[index])
        grouped.setdefault((indexes[0], indexes[-1]), []).append(conjunct)
    explicit_pairs = {(sources.index(j.left), sources.index(j.right)) for j in infos}
    for (a, b), parts in grouped.items():
        if (a, b) in explicit_pairs or (b, a) in explicit_pairs:
            continue
        infos.append(JoinInfo(scope, sources[a], sources[b], "INNER", parts, implicit.get(b), False, True))

    components: dict[int, Source] = {}
    for source in sources:
        components.setdefault(root(sources.index(source)), source)
    firsts = list(components.values())
    for other in firsts[1:]:
        node = implicit.get(sources.index(other))
        infos.append(JoinInfo(scope, firsts[0], other, "CROSS", [], node, False, False))
    for info in infos:
        if not info.pairs:
            info.pairs = frozenset(p for c in info.conjuncts if (p := _equality(scope, c)) is not None)
    return infos, links


def match_accepted(info: JoinInfo, accepted: tuple[AcceptedJoin, ...]) -> None:
    """Bind ``info`` to the newest accepted join with the same equality pairs; set cardinality."""
    if info.pairs:
        matches = _by_pairs(accepted).get(info.pairs)
        if matches:
            best = max(matches, key=lambda a: a.version)
            info.accepted = best
            if best.cardinality:
                same_side = best.left_table.lower() == info.left.label
                info.cardinality = best.cardinality if same_side else _FLIP.get(best.cardinality, best.cardinality)
                return
    info.cardinality = _from_keys(info)


def unique_side(info: JoinInfo) -> Source | None:
    """The "one" side of a one-to-many join, else None."""
    if info.cardinality == ONE_TO_MANY:
        return info.left
    if info.cardinality == MANY_TO_ONE:
        return info.right
    return None


def _from_keys(info: JoinInfo) -> str | None:
    if not info.pairs:
        return None
    left_cols = {col for pair in info.pairs for (tbl, col) in pair if tbl == info.left.label}
    right_cols = {col for pair in info.pairs for (tbl, col) in pair if tbl == info.right.label}
    if not info.left.primary_key and not info.right.primary_key:
        return None
    left_one = bool(info.left.primary_key) and info.left.primary_key <= left_cols
    right_one = bool(info.right.primary_key) and info.right.primary_key <= right_cols
    return {(True, True): ONE_TO_ONE, (True, False): ONE_TO_MANY,
            (False, True): MANY_TO_ONE, (False, False): MANY_TO_MANY}[(left_one, right_one)]


# The last accepted-joins tuple indexed by its pairs: a catalog snapshot's tuple is one object for
# as long as the snapshot lives, and matching every join of a query against every accepted join
# (hundreds in a large catalog) at every keystroke of an IDE is what this avoids.
_INDEXED: list[tuple[tuple[AcceptedJoin, ...], dict[frozenset[Pair], list[AcceptedJoin]]]] = []


def _by_pairs(accepted: tuple[AcceptedJoin, ...]) -> dict[frozenset[Pair], list[AcceptedJoin]]:
    for known, found in _INDEXED:
        if known is accepted:
            return found
    index: dict[frozenset[Pair], list[AcceptedJoin]] = {}
    for join in accepted:
        index.setdefault(_accepted_pairs(join), []).append(join)
    _INDEXED[:] = [(accepted, index), *_INDEXED[:3]]
    return index


def _accepted_pairs(join: AcceptedJoin) -> frozenset[Pair]:
    return frozenset(_sorted_pair((join.left_table.lower(), lc.lower()), (join.right_table.lower(), rc.lower()))
                     for lc, rc in zip(join.left_columns, join.right_columns, strict=False))


def _equality(scope: Scope, conjunct: exp.Expr) -> Pair | None:
    if not (isinstance(conjunct, exp.EQ) and isinstance(conjunct.this, exp.Column)
            and isinstance(conjunct.expression, exp.Column)):
        return None
    a, b = scope.owner(conjunct.this), scope.owner(conjunct.expression)
    if a is None or b is None or a is b:
        return None
    return _pair(a, conjunct.this.name.lower(), b, conjunct.expression.name.lower())


def _pair(a: Source, a_col: str, b: Source, b_col: str) -> Pair:
    return _sorted_pair((a.label, a_col), (b.label, b_col))


def _sorted_pair(x: tuple[str, str], y: tuple[str, str]) -> Pair:
    return (x, y) if x <= y else (y, x)


def _join_type(node: exp.Join) -> str:
    side = (node.side or "").upper()
    if side:
        return side
    return "CROSS" if (node.kind or "").upper() == "CROSS" and not node.args.get("on") else "INNER"


def join_sources(scope: Scope, node: exp.Expr) -> list[Source]:
    return [s for c in local_columns(node) if (s := scope.owner(c)) is not None]
