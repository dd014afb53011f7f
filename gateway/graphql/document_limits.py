"""What one GraphQL document may cost, measured in one pass linear in its size, before validation.

Strawberry's depth and alias limiters (and graphql-core's validation after them) expand every
fragment spread where it is used, with no memory of fragments already measured: a document of a
few hundred bytes whose fragment ``Z18`` spreads ``Z17`` twice, which spreads ``Z16`` twice, …
makes them walk 2^18 selections. Here each fragment is measured once, in dependency order, and a
spread adds the fragment's remembered measure; so the work is proportional to the document's
text, whatever its fragments expand to, and the expanded figures are known before anything walks
the expansion.

Measured, and refused above its limit (all ``INVALID_INPUT``):

- ``spreads``: fragment spreads written in the document;
- ``nesting``: selection sets written inside one another (fields and inline fragments);
- ``selections``: fields once every fragment is expanded — the document's cost;
- ``depth``: nested fields with selections, once fragments are expanded; introspection fields
  (``__schema``, ``__type``) do not count, as in strawberry's limiter (graphql-core's
  ``MaxIntrospectionDepthRule`` bounds those, and their selections count in the cost);
- ``aliases``: aliased fields once fragments are expanded;
- ``fieldPairs``: pairs of fields that answer under the same response path, fragments expanded.
  graphql-core's rule that fields of one name can be merged compares such fields pairwise (and
  their children pairwise again): 600 copies of ``me { email role }`` (3,000 tokens, 1,800
  selections) took it 11 s. Counted by walking the expansion, once it is known to be at most
  ``selections`` fields.

A fragment that spreads itself (directly or not) measures as empty here: validation refuses the
cycle with its own message, and by then the document is known to be small.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

# Larger figures add nothing: clamping keeps the arithmetic on small integers.
_CLAMP = 1 << 40
# Steps of the walk that counts field pairs, per field allowed: spreads and inline fragments
# are steps too (a chain of spreads leading to one field).
_VISITS_PER_SELECTION = 8


@dataclass(frozen=True, slots=True)
class DocumentLimits:
    """The limits of one document; the defaults fit GraphiQL's introspection query with room."""

    max_depth: int = 12
    max_aliases: int = 30
    max_selections: int = 2_000
    max_spreads: int = 200
    max_nesting: int = 64
    max_field_pairs: int = 2_000


@dataclass(frozen=True, slots=True)
class Measure:
    """The figures of one selection set with every fragment in it expanded."""

    depth: int = 0
    selections: int = 0
    aliases: int = 0

    def merged(self, other: Measure, *, depth_offset: int = 0) -> Measure:
        return Measure(depth=max(self.depth, other.depth + depth_offset),
                       selections=min(self.selections + other.selections, _CLAMP),
                       aliases=min(self.aliases + other.aliases, _CLAMP))


EMPTY = Measure()


def check_document(document: DocumentNode, limits: DocumentLimits) -> list[GraphQLError]:
    """The refusals of ``document`` under ``limits`` (empty when it is within them)."""
    spreads, nesting, uses = _literal(document, limits.max_nesting)
    if nesting > limits.max_nesting:
        return [_refusal(f"Selections are nested {nesting}+ levels deep; the limit is {limits.max_nesting}.",
                         "nesting", limits.max_nesting)]
    if spreads > limits.max_spreads:
        return [_refusal(f"The document has {spreads} fragment spreads; the limit is {limits.max_spreads}.",
                         "spreads", limits.max_spreads)]
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    measured: dict[str, Measure] = {}
    for name in _dependency_order(fragments, uses):
        measured[name] = _measure(fragments[name].selection_set, measured)
    errors: list[GraphQLError] = []
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        measure = _measure(definition.selection_set, measured)
        label = f"'{definition.name.value}'" if definition.name else "The operation"
        if measure.selections > limits.max_selections:
            errors.append(_refusal(
                f"{label} selects {_figure(measure.selections)} fields once its fragments are expanded; "
                f"the limit is {limits.max_selections}. Ask for fewer fields or split the operation.",
                "selections", limits.max_selections, definition))
        if measure.depth > limits.max_depth:
            errors.append(_refusal(
                f"{label} is {_figure(measure.depth)} fields deep; the limit is {limits.max_depth}.",
                "depth", limits.max_depth, definition))
        if measure.aliases > limits.max_aliases:
            errors.append(_refusal(
                f"{label} uses {_figure(measure.aliases)} aliases once its fragments are expanded; "
                f"the limit is {limits.max_aliases}.", "aliases", limits.max_aliases, definition))
        if errors:
            continue
        pairs = _field_pairs(definition, fragments, max_visits=_VISITS_PER_SELECTION * limits.max_selections)
        if pairs is None or pairs > limits.max_field_pairs:
            errors.append(_refusal(
                f"{label} asks for the same fields over and over ({_figure(pairs) if pairs else 'too many'} pairs "
                f"of fields under one name, fragments expanded); the limit is {limits.max_field_pairs}. "
                "Ask for each field once.", "fieldPairs", limits.max_field_pairs, definition))
    return errors


def _figure(value: int) -> str:
    return f"{value:,}" if value < _CLAMP else "more than a trillion"


def _refusal(message: str, limit: str, value: int, node: OperationDefinitionNode | None = None) -> GraphQLError:
    return GraphQLError(message, nodes=[node] if node is not None else None,
                        extensions={"code": "INVALID_INPUT", "limit": limit, "max": value})


def _literal(document: DocumentNode, max_nesting: int) -> tuple[int, int, dict[str, set[str]]]:
    """Spreads written, the deepest nesting (stopping past ``max_nesting``), and which fragments
    each fragment spreads. Iterative: a deeply nested document must not exhaust Python's stack."""
    spreads = 0
    deepest = 0
    uses: dict[str, set[str]] = {}
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode | FragmentDefinitionNode):
            continue
        owner = uses.setdefault(definition.name.value, set()) if isinstance(
            definition, FragmentDefinitionNode) else set()
        stack: list[tuple[SelectionSetNode, int]] = [(definition.selection_set, 1)]
        while stack:
            selection_set, level = stack.pop()
            deepest = max(deepest, level)
            if level > max_nesting:
                return spreads, deepest, uses
            for selection in selection_set.selections:
                if isinstance(selection, FragmentSpreadNode):
                    spreads += 1
                    owner.add(selection.name.value)
                elif isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set:
                    stack.append((selection.selection_set, level + 1))
    return spreads, deepest, uses


def _dependency_order(fragments: dict[str, FragmentDefinitionNode], uses: dict[str, set[str]]) -> list[str]:
    """Fragments, each after every fragment it spreads; a fragment on a cycle comes without its
    cycle's members measured (they count as empty, see the module's docstring)."""
    order: list[str] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for root in fragments:
        if root in state:
            continue
        state[root] = 1
        stack: list[tuple[str, list[str]]] = [(root, sorted(uses.get(root, ())))]
        while stack:
            name, pending = stack[-1]
            while pending and (pending[-1] not in fragments or pending[-1] in state):
                pending.pop()
            if pending:
                child = pending.pop()
                state[child] = 1
                stack.append((child, sorted(uses.get(child, ()))))
                continue
            stack.pop()
            state[name] = 2
            order.append(name)
    return order


def _measure(selection_set: SelectionSetNode, measured: dict[str, Measure]) -> Measure:
    """The expanded measure of a selection set; spreads read ``measured`` (nesting was checked)."""
    total = EMPTY
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            own = Measure(selections=1, aliases=1 if selection.alias else 0)
            if selection.selection_set is not None:
                inner = _measure(selection.selection_set, measured)
                counts_depth = not selection.name.value.startswith("__")
                own = own.merged(inner, depth_offset=1) if counts_depth else own.merged(
                    Measure(selections=inner.selections, aliases=inner.aliases))
            total = total.merged(own)
        elif isinstance(selection, InlineFragmentNode):
            total = total.merged(_measure(selection.selection_set, measured))
        elif isinstance(selection, FragmentSpreadNode):
            total = total.merged(measured.get(selection.name.value, EMPTY))
    return total


def _field_pairs(operation: OperationDefinitionNode, fragments: dict[str, FragmentDefinitionNode],
                 max_visits: int) -> int | None:
    """Pairs of fields that answer under the same response path, fragments expanded.

    graphql-core's rule that same-named fields can be merged compares such fields pairwise, and
    the children of each pair pairwise again: its work grows with the square of the fields that
    share a path. Walked only once the expansion is known to be small (at most ``max_selections``
    fields); ``None`` when the walk needs more than ``max_visits`` steps. Iterative, and a fragment
    already being expanded on the way down is not expanded again (validation refuses the cycle).
    """
    pairs = visits = 0
    root: dict[str, list[Any]] = {}
    stack: list[tuple[SelectionSetNode, dict[str, list[Any]], frozenset[str]]] = [
        (operation.selection_set, root, frozenset())]
    while stack:
        selection_set, paths, active = stack.pop()
        for selection in selection_set.selections:
            visits += 1
            if visits > max_visits:
                return None
            if isinstance(selection, FieldNode):
                entry = paths.setdefault((selection.alias or selection.name).value, [0, {}])
                pairs += entry[0]  # the new field pairs with each one already at this path
                entry[0] += 1
                if selection.selection_set is not None:
                    stack.append((selection.selection_set, entry[1], active))
            elif isinstance(selection, InlineFragmentNode):
                stack.append((selection.selection_set, paths, active))
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in fragments and name not in active:
                    stack.append((fragments[name].selection_set, paths, active | {name}))
    return pairs
