"""Logical -> physical: every table reference resolves through the catalog, CTEs scoped first.

Resolution order for a logical name: a pinned version (SHADOW only with ``may_view_shadow``),
else the ACTIVE version, else the newest READ_ONLY one. A name that is not a logical table —
a physical name typed by hand, anything schema-qualified, a table the caller may not see — is
TABLE_NOT_FOUND. The message repeats what was typed and suggests the nearest logical names the
caller may see; it reads the same for a missing and an invisible table, so it cannot be used
to probe.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from planner.catalog import DEPRECATED, Catalog, TableVersion, resolved, visible_names, visible_versions
from planner.copying import Pairs, copy_of
from planner.errors import NotAQuery, TableNotFound, TableNotQueryable
from planner.model import Pin, PlanOptions
from planner.nearest import nearest
from planner.positions import Fix, Span, node_span


@dataclass(frozen=True, slots=True)
class Resolved:
    """One table reference bound to a catalog version."""

    node: exp.Table
    version: TableVersion
    pinned: bool


@dataclass(frozen=True, slots=True)
class Resolution:
    tables: tuple[Resolved, ...]  # in reference order
    by_node: dict[int, Resolved]  # id(exp.Table) -> binding, for later passes
    cte_refs: dict[int, exp.CTE]  # id(exp.Table) -> the CTE it names


def resolve(tree: exp.Expr, catalog: Catalog, options: PlanOptions) -> Resolution:
    pins = _pins(options.pins)
    tables: list[Resolved] = []
    by_node: dict[int, Resolved] = {}
    cte_refs: dict[int, exp.CTE] = {}
    memo: dict[str, tuple[TableVersion, bool]] = {}
    for node in tree.find_all(exp.Table):
        if not isinstance(node.this, exp.Identifier):
            raise NotAQuery("Table functions are not allowed in FROM; query catalog tables only.",
                            span=node_span(node))
        name = node.name
        if not node.args.get("db") and not node.args.get("catalog"):
            cte = _visible_cte(node, name.lower())
            if cte is not None:
                cte_refs[id(node)] = cte
                continue
        else:
            raise not_found(node, catalog, options.may_view_shadow)
        key = name.lower()
        if key not in memo:
            memo[key] = _version(node, key, catalog, pins, options.may_view_shadow)
        version, pinned = memo[key]
        bound = Resolved(node=node, version=version, pinned=pinned)
        tables.append(bound)
        by_node[id(node)] = bound
    return Resolution(tables=tuple(tables), by_node=by_node, cte_refs=cte_refs)


def carried_over(resolution: Resolution, pairs: Pairs) -> Resolution:
    """The same bindings on a copy of the tree (``pairs`` from :func:`planner.copying.copy_tree`):
    what resolving the copy again would find, without walking it or asking the catalog again."""
    tables = tuple(Resolved(node=copy_of(pairs, b.node), version=b.version, pinned=b.pinned)
                   for b in resolution.tables)
    cte_refs = {id(pairs[node]): copy_of(pairs, cte) for node, cte in resolution.cte_refs.items()}
    return Resolution(tables=tables, by_node={id(b.node): b for b in tables}, cte_refs=cte_refs)


def _pins(pins: tuple[Pin, ...]) -> dict[str, int]:
    return {p.table.lower(): p.version for p in pins}


def _version(node: exp.Table, key: str, catalog: Catalog, pins: dict[str, int],
             may_view_shadow: bool) -> tuple[TableVersion, bool]:
    table = catalog.table(key)
    visible = () if table is None else visible_versions(table, may_view_shadow)
    if not visible:
        raise not_found(node, catalog, may_view_shadow)
    if key in pins:
        wanted = pins[key]
        chosen = next((v for v in visible if v.version == wanted), None)
        if chosen is None:
            raise TableNotQueryable(f"Version {wanted} of table '{key}' does not exist or is not "
                                    f"available to you; pick a version listed by `table(name)`.",
                                    span=_name_span(node))
        return chosen, True
    found = resolved(visible)
    if found is not None:
        return found, False
    only = "deprecated" if all(v.state == DEPRECATED for v in visible) else "not yet active"
    raise TableNotQueryable(f"Table '{key}' has no ACTIVE or READ_ONLY version (its versions are {only}); "
                            f"pin one with pins: [{{table: \"{key}\", version: N}}].", span=_name_span(node))


def _name_span(node: exp.Table) -> Span | None:
    """The table's name as typed, schema included, without its alias."""
    spans = [s for part in node.parts if (s := node_span(part)) is not None]
    return (min(s[0] for s in spans), max(s[1] for s in spans)) if spans else None


def nearest_tables(typed: str, catalog: Catalog, may_view_shadow: bool, n: int = 3) -> list[str]:
    """The logical names closest to ``typed`` among those the caller may see; never another."""
    return nearest(typed.lower(), visible_names(catalog, may_view_shadow), n=n)


def not_found(node: exp.Table, catalog: Catalog, may_view_shadow: bool) -> TableNotFound:
    typed = ".".join(part.name for part in node.parts)
    span = _name_span(node)
    near = nearest_tables(node.name, catalog, may_view_shadow)
    fixes = tuple(Fix(f"Did you mean {name}?", name, span) for name in near) if span else ()
    hint = f" Did you mean {' or '.join(near)}?" if near else ""
    return TableNotFound(f"No table named '{typed}' that you can query.{hint} Use a logical table name as "
                         f"listed by `tables`, without schema or quoting.", span=span, fixes=fixes)


def _visible_cte(node: exp.Expr, name: str) -> exp.CTE | None:
    """The CTE a table reference names, honouring WITH scoping; None if it names no CTE."""
    child: exp.Expr = node
    parent = node.parent
    skip: exp.Expr | None = None
    while parent is not None:
        if isinstance(parent, exp.With):
            ctes = parent.expressions
            index = next((i for i, c in enumerate(ctes) if c is child), len(ctes))
            # A CTE sees the ones before it; a recursive WITH also lets a CTE see itself.
            upto = index + 1 if parent.args.get("recursive") else index
            for cte in reversed(ctes[:upto]):
                if cte.alias_or_name.lower() == name:
                    return cte
            skip = parent.parent
        elif isinstance(parent, exp.Query) and parent is not skip:
            with_ = parent.args.get("with_")
            if with_ is not None:
                for cte in reversed(with_.expressions):
                    if cte.alias_or_name.lower() == name:
                        return cte
        child, parent = parent, parent.parent
    return None
