"""Join discovery: which column pairs of a catalog could join, and on what evidence.

Pure: no I/O, stdlib only. The gateway hands in the tables (columns, types, declared foreign
keys) and the joins analysts wrote in executed queries; this module proposes candidates, each
with the structural evidence behind it. Measuring the data (value inclusion, cardinality) is
the gateway's job; :mod:`planner.join_scoring` turns proposals plus measurements into scores.

Discovery never compares every column with every column. It builds two hash indexes in one
pass over all columns and probes them in a second pass, so its cost grows with the number of
columns (close to linearly), not with its square:

- parent keys by name: ``customers.id`` is filed under ``customer_id`` and ``customers_id``;
  a key-like primary key such as ``customers.customer_id`` under its own name;
- key-like columns by name: ``orders.customer_id`` and ``tickets.customer_id`` share a bucket
  (a possible many-to-many trap); buckets larger than :data:`MAX_SHARED_GROUP` are ignored,
  since a column every table has (``tenant_id``) is a filter, not a join.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from planner.catalog import Column

# A bucket of same-named key-like columns larger than this is a convention, not a join.
MAX_SHARED_GROUP = 6
# A name that files more parents than this is too generic to suggest anything by itself.
MAX_PARENTS_PER_NAME = 8

KEY_SUFFIXES = ("_id", "_key", "_code", "_uuid", "_no", "_number", "_sk")
TABLE_PREFIXES = ("dim_", "fact_", "fct_", "stg_", "raw_", "ref_")


class EvidenceKind(enum.Enum):
    FOREIGN_KEY = "FOREIGN_KEY"  # declared in the warehouse, found by introspection
    NAME_MATCH = "NAME_MATCH"  # orders.customer_id ↔ customers.id: a key by name and type
    SHARED_NAME = "SHARED_NAME"  # orders.customer_id ↔ tickets.customer_id: neither is a key
    VALUE_INCLUSION = "VALUE_INCLUSION"  # measured: child values found in the parent
    OBSERVED = "OBSERVED"  # written by analysts in executed queries


@dataclass(frozen=True, slots=True)
class DeclaredKey:
    columns: tuple[str, ...]
    referred_table: str  # logical name
    referred_columns: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DiscoveryTable:
    name: str  # logical, lower case
    columns: tuple[Column, ...]
    foreign_keys: tuple[DeclaredKey, ...] = ()
    row_count: int | None = None

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name.lower() == name.lower()), None)


@dataclass(frozen=True, slots=True)
class ObservedJoin:
    """One join condition an analyst wrote in one executed query."""

    left_table: str
    left_columns: tuple[str, ...]
    right_table: str
    right_columns: tuple[str, ...]
    user: str


@dataclass(frozen=True, slots=True)
class Evidence:
    kind: EvidenceKind
    detail: str
    count: int = 0  # OBSERVED: executed queries
    users: int = 0  # OBSERVED: distinct users


Side = tuple[str, tuple[str, ...]]


@dataclass(frozen=True)
class JoinProposal:
    """A possible join, oriented child (left, the referencing side) → parent (right)."""

    left_table: str
    left_columns: tuple[str, ...]
    right_table: str
    right_columns: tuple[str, ...]
    evidence: tuple[Evidence, ...] = field(default=())

    @property
    def id(self) -> str:
        return candidate_id(self.left_table, self.left_columns, self.right_table, self.right_columns)

    @property
    def condition(self) -> str:
        return condition_text(self.left_table, self.left_columns, self.right_table, self.right_columns)

    @property
    def tables(self) -> tuple[str, str]:
        return (self.left_table, self.right_table)

    def kinds(self) -> frozenset[EvidenceKind]:
        return frozenset(e.kind for e in self.evidence)


def canonical_pairs(left_table: str, left_columns: Iterable[str], right_table: str,
                    right_columns: Iterable[str]) -> tuple[str, ...]:
    """The condition with side order, conjunct order and letter case normalised away."""
    pairs = []
    for lc, rc in zip(left_columns, right_columns, strict=True):
        a, b = f"{left_table}.{lc}".lower(), f"{right_table}.{rc}".lower()
        pairs.append(f"{a}={b}" if a <= b else f"{b}={a}")
    return tuple(sorted(pairs))


def candidate_id(left_table: str, left_columns: Iterable[str], right_table: str,
                 right_columns: Iterable[str]) -> str:
    """Stable for the same normalised condition, whichever way round it was found."""
    key = "&".join(canonical_pairs(left_table, left_columns, right_table, right_columns))
    return "jc_" + hashlib.sha256(key.encode()).hexdigest()[:16]


def join_id(table_a: str, table_b: str) -> str:
    """One accepted join per pair of tables; its versions share this id."""
    key = "|".join(sorted((table_a.lower(), table_b.lower())))
    return "j_" + hashlib.sha256(key.encode()).hexdigest()[:12]


def condition_text(left_table: str, left_columns: Iterable[str], right_table: str,
                   right_columns: Iterable[str]) -> str:
    return " AND ".join(f"{left_table}.{lc} = {right_table}.{rc}"
                        for lc, rc in zip(left_columns, right_columns, strict=True))


# --- names and types ------------------------------------------------------------------------

def stems(table: str) -> tuple[str, ...]:
    """The entity names a table may be referred to by: ``dim_categories`` → ``categories``, ``category``."""
    names = [table.lower()]
    for prefix in TABLE_PREFIXES:
        if names[0].startswith(prefix) and len(names[0]) > len(prefix):
            names.append(names[0][len(prefix):])
    out: list[str] = []
    for name in names:
        for candidate in (name, singular(name)):
            if candidate not in out:
                out.append(candidate)
    return tuple(out)


def singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 3:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss") and len(word) > 1:
        return word[:-1]
    return word


def is_key_like(column: str) -> bool:
    lowered = column.lower()
    return lowered == "id" or lowered.endswith(KEY_SUFFIXES)


_BASE = re.compile(r"[A-Z_ ]+")
_FAMILY_OF = {
    "INT": "int", "INTEGER": "int", "BIGINT": "int", "SMALLINT": "int", "TINYINT": "int",
    "MEDIUMINT": "int", "INT2": "int", "INT4": "int", "INT8": "int", "SERIAL": "int",
    "BIGSERIAL": "int", "NUMERIC": "int", "DECIMAL": "int", "NUMBER": "int",
    "TEXT": "text", "VARCHAR": "text", "CHAR": "text", "CHARACTER": "text", "STRING": "text",
    "CHARACTER VARYING": "text", "NVARCHAR": "text", "NCHAR": "text", "CLOB": "text",
    "UUID": "uuid", "DATE": "date", "TIMESTAMP": "timestamp", "DATETIME": "timestamp",
    "BOOLEAN": "bool", "BOOL": "bool",
}


@functools.lru_cache(maxsize=4096)
def type_family(sql_type: str) -> str:
    """A coarse family: keys of different spellings (INTEGER, BIGINT, NUMERIC(10)) still match."""
    match = _BASE.match(sql_type.strip().upper())
    base = match.group(0).strip() if match else sql_type.upper()
    base = base.replace(" WITHOUT TIME ZONE", "").replace(" WITH TIME ZONE", "").strip()
    return _FAMILY_OF.get(base, base.lower() or "unknown")


def types_compatible(a: str, b: str) -> bool:
    return type_family(a) == type_family(b)


# --- discovery ------------------------------------------------------------------------------

_STRENGTH = {EvidenceKind.FOREIGN_KEY: 3.0, EvidenceKind.NAME_MATCH: 2.0, EvidenceKind.OBSERVED: 1.5,
             EvidenceKind.SHARED_NAME: 1.0}
Key = tuple[tuple[tuple[str, str], tuple[str, str]], ...]


def _key(left: Side, right: Side) -> Key:
    """The normalised condition as tuples (cheap to hash; no strings built per probe)."""
    pairs = []
    for lc, rc in zip(left[1], right[1], strict=True):
        a, b = (left[0], lc), (right[0], rc)
        pairs.append((a, b) if a <= b else (b, a))
    return tuple(sorted(pairs)) if len(pairs) > 1 else tuple(pairs)


@dataclass(slots=True)
class _Found:
    left: Side
    right: Side
    evidence: list[Evidence]
    strength: float


class _Proposals:
    """Proposals keyed by their normalised condition, so evidence from every kind merges."""

    def __init__(self) -> None:
        self.by_key: dict[Key, _Found] = {}

    def add(self, left: Side, right: Side, evidence: Evidence) -> None:
        key = _key(left, right)
        found = self.by_key.get(key)
        if found is None:
            self.by_key[key] = _Found(left, right, [evidence], _STRENGTH.get(evidence.kind, 0.0))
        elif all(e.kind is not evidence.kind for e in found.evidence):
            found.evidence.append(evidence)
            found.strength += _STRENGTH.get(evidence.kind, 0.0)


@dataclass(slots=True)
class _Table:
    """A table with lower-cased names and an O(1) column lookup, built once per discovery."""

    name: str
    columns: dict[str, Column]
    source: DiscoveryTable

    @classmethod
    def of(cls, table: DiscoveryTable) -> _Table:
        return cls(table.name.lower(), {c.name.lower(): c for c in table.columns}, table)


def discover(tables: Iterable[DiscoveryTable], observed: Iterable[ObservedJoin] = (), *,
             focus: Iterable[str] = ()) -> list[JoinProposal]:
    """Every proposal of a catalog, or only those touching every table named in ``focus``."""
    catalog = {t.name: t for t in map(_Table.of, tables)}
    wanted = frozenset(f.lower() for f in focus)
    found = _Proposals()
    _foreign_keys(catalog, found)
    _name_matches(catalog, found)
    _observed(catalog, observed, found)
    # Strongest evidence first. Strengths take a handful of values, so bucketing keeps this
    # linear where a full sort would not be; within a bucket, discovery order (deterministic).
    buckets: dict[float, list[_Found]] = {}
    for f in found.by_key.values():
        if not wanted or wanted <= {f.left[0], f.right[0]}:
            buckets.setdefault(f.strength, []).append(f)
    return [JoinProposal(f.left[0], f.left[1], f.right[0], f.right[1], tuple(f.evidence))
            for strength in sorted(buckets, reverse=True) for f in buckets[strength]]


def structural_strength(proposal: JoinProposal) -> float:
    """An order for measuring: the strongest structural evidence first."""
    return sum(_STRENGTH.get(e.kind, 0.0) for e in proposal.evidence)


def _foreign_keys(catalog: dict[str, _Table], found: _Proposals) -> None:
    for table in catalog.values():
        for fk in table.source.foreign_keys:
            parent = catalog.get(fk.referred_table.lower())
            if parent is None or len(fk.columns) != len(fk.referred_columns) or not fk.columns:
                continue
            left = (table.name, tuple(c.lower() for c in fk.columns))
            right = (parent.name, tuple(c.lower() for c in fk.referred_columns))
            found.add(left, right, Evidence(
                EvidenceKind.FOREIGN_KEY,
                f"declared foreign key {condition_text(left[0], left[1], right[0], right[1])}"))


def _parent_names(table: _Table) -> list[tuple[str, str, Column]]:
    """(name others would use, own column name, column) for this table's key."""
    pk = [(n, c) for n, c in table.columns.items() if c.primary_key]
    key: tuple[str, Column] | None = pk[0] if len(pk) == 1 else None
    if not pk and "id" in table.columns:
        key = ("id", table.columns["id"])
    names: list[tuple[str, str, Column]] = []
    table_stems = stems(table.name)
    if key is not None and key[0] == "id":
        names.extend((f"{stem}_id", "id", key[1]) for stem in table_stems)
    elif key is not None and is_key_like(key[0]):
        names.append((key[0], key[0], key[1]))
    for stem in table_stems:
        own = f"{stem}_id"
        if own in table.columns and (key is None or key[0] != own):
            names.append((own, own, table.columns[own]))
    return names


def _name_matches(catalog: dict[str, _Table], found: _Proposals) -> None:
    parents: dict[str, list[tuple[_Table, str, Column]]] = {}
    shared: dict[str, list[tuple[_Table, Column]]] = {}
    for table in catalog.values():  # pass 1: file every parent key and key-like column
        filed = _parent_names(table)
        for name, own, column in filed:
            parents.setdefault(name, []).append((table, own, column))
        own_keys = {own for _, own, _ in filed}
        for name, column in table.columns.items():
            if name != "id" and name not in own_keys and is_key_like(name):
                shared.setdefault(name, []).append((table, column))
    for table in catalog.values():  # pass 2: probe with each column, O(1) per probe
        for name, column in table.columns.items():
            bucket = parents.get(name)
            if not bucket or len(bucket) > MAX_PARENTS_PER_NAME:
                continue
            for parent, own, key in bucket:
                if parent is table or type_family(column.type) != type_family(key.type):
                    continue
                found.add((table.name, (name,)), (parent.name, (own,)), Evidence(
                    EvidenceKind.NAME_MATCH,
                    f"names and types match: {table.name}.{name} ↔ {parent.name}.{own} ({column.type})"))
    for name, group in shared.items():
        if not 2 <= len(group) <= MAX_SHARED_GROUP:
            continue
        for i, (a, ca) in enumerate(group):
            for b, cb in group[i + 1:]:
                if a is b or type_family(ca.type) != type_family(cb.type):
                    continue
                left, right = sorted([(a.name, (name,)), (b.name, (name,))])
                found.add(left, right, Evidence(
                    EvidenceKind.SHARED_NAME,
                    f"both {left[0]} and {right[0]} have {name} ({ca.type}), and neither is a key"))


@dataclass(slots=True)
class _Tally:
    left: Side
    right: Side
    count: int = 0
    users: set[str] = field(default_factory=set)


def _observed(catalog: dict[str, _Table], observed: Iterable[ObservedJoin], found: _Proposals) -> None:
    tallies: dict[Key, _Tally] = {}
    for o in observed:
        left_t, right_t = catalog.get(o.left_table.lower()), catalog.get(o.right_table.lower())
        if left_t is None or right_t is None or left_t is right_t or not o.left_columns:
            continue
        if len(o.left_columns) != len(o.right_columns):
            continue
        if any(c.lower() not in left_t.columns for c in o.left_columns) or any(
                c.lower() not in right_t.columns for c in o.right_columns):
            continue
        left = (left_t.name, tuple(c.lower() for c in o.left_columns))
        right = (right_t.name, tuple(c.lower() for c in o.right_columns))
        tally = tallies.setdefault(_key(left, right), _Tally(left, right))
        tally.count += 1
        tally.users.add(o.user.lower())
    for t in tallies.values():
        users = len(t.users)
        found.add(t.left, t.right, Evidence(
            EvidenceKind.OBSERVED,
            f"written in {t.count} executed quer{'y' if t.count == 1 else 'ies'} by {users} "
            f"user{'' if users == 1 else 's'}", count=t.count, users=users))


def observed_weight(count: int, users: int) -> float:
    """More queries count, and more distinct people count more: one habit is not a consensus."""
    if count <= 0:
        return 0.0
    return min(0.75, 0.3 + 0.1 * math.log2(count) + 0.1 * max(users - 1, 0))
