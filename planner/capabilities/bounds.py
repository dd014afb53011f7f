"""What one function call may build: checked at preview, because a warehouse cannot interrupt it.

SQLite's progress handler cannot stop ``printf('%.*c', 200000000, 'x')`` once it has started,
and PostgreSQL's statement timeout only fires after the memory is spent. So the planner bounds,
before anything runs, the size of every text a query builds, as an upper bound in two parts:

    size <= growth × (the longest value read from a table) + fixed

``fixed`` covers widths, pad lengths and repeated literals (``LPAD(s, 1000000)``,
``printf('%5000000d', 1)``, ``REPEAT('x', 10000000)``); ``growth`` covers what multiplies values
(``REPEAT(col, 1000)``, nested ``HEX()`` or ``REPLACE()`` that lengthen). Past
``FunctionBounds.max_bytes`` or ``max_growth`` the query is ``FUNCTION_LIMIT``. A width or count
that is not a constant must be bounded by one (``LEAST(n, 100)``) or it is refused: the planner
cannot know what a column holds.

The bounds are a planner option (``PlanOptions.function_bounds``) the gateway sets from its
settings (``SPYNE_FUNCTION_MAX_BYTES``, ``SPYNE_FUNCTION_MAX_GROWTH``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlglot import exp

from planner.errors import FunctionLimit
from planner.positions import tree_span


@dataclass(frozen=True, slots=True)
class FunctionBounds:
    max_bytes: int = 1_000_000  # the fixed part of any text a query builds
    max_growth: int = 1_000  # how many times a call may multiply the values it reads


DEFAULT_BOUNDS = FunctionBounds()

# The functions that can build more than they read; a query using none of them is not measured.
BUILDERS = frozenset({"Repeat", "Pad", "Hex", "Replace", "Format", "printf", "format", "lpad", "rpad",
                      "TimeToStr", "to_char", "zeroblob", "randomblob", "RegexpReplace", "Translate"})

# printf/format conversions: flags, width (digits or *), precision (.digits or .*), conversion.
_SPEC = re.compile(r"%([-+ #0,!]*)(\*|\d+)?(?:\.(\*|\d+))?([a-zA-Z%])")
_UNBOUNDED = 1 << 62


@dataclass(frozen=True, slots=True)
class Size:
    growth: float
    fixed: int

    def __add__(self, other: Size) -> Size:
        return Size(self.growth + other.growth, min(self.fixed + other.fixed, _UNBOUNDED))

    def times(self, factor: float) -> Size:
        return Size(self.growth * factor, min(int(self.fixed * factor), _UNBOUNDED))


_VALUE = Size(1.0, 0)  # a value read from a table: its own length
_SMALL = Size(0.0, 64)  # a number, a date, a boolean as text


def check_bounds(tree: exp.Expr, bounds: FunctionBounds) -> None:
    """Raise FunctionLimit when a text the query builds may exceed the bounds."""
    if not any(_key(f) in BUILDERS for f in tree.find_all(exp.Func)):
        return
    sizes: dict[int, Size] = {}
    # Children before parents: every node's size is computed from its arguments' sizes.
    for node in reversed(list(tree.walk())):
        size = _size(node, sizes, bounds)
        sizes[id(node)] = size
        if size.fixed > bounds.max_bytes or size.growth > bounds.max_growth:
            raise _limit(node, size, bounds)


def _size(node: exp.Expr, sizes: dict[int, Size], bounds: FunctionBounds) -> Size:
    def of(child: exp.Expr | None) -> Size:
        return sizes.get(id(child), _SMALL) if child is not None else Size(0.0, 0)

    if isinstance(node, exp.Literal):
        return Size(0.0, len(node.this)) if node.is_string else _SMALL
    if isinstance(node, exp.Column):
        return _VALUE
    if isinstance(node, exp.Repeat):
        return of(node.this).times(_count(node.args.get("times"), node, bounds))
    if isinstance(node, exp.Pad):
        width = _count(node.expression, node, bounds)
        return Size(0.0, width * 4) + of(node.this)  # up to four bytes a character
    if isinstance(node, exp.Hex):
        return of(node.this).times(2)
    if isinstance(node, exp.Replace | exp.RegexpReplace):
        pattern, replacement = node.expression, node.args.get("replacement")
        ratio = of(replacement).fixed / max(len(pattern.this), 1) if (
            isinstance(pattern, exp.Literal) and isinstance(replacement, exp.Literal)) else None
        if ratio is not None and ratio <= 1:
            return of(node.this)
        if ratio is not None:
            return of(node.this).times(ratio)
        return of(node.this).times(max(of(replacement).growth, 1.0) + 1) + of(replacement)
    if isinstance(node, exp.Format) or (isinstance(node, exp.Anonymous) and node.name.lower() in ("printf",
                                                                                                  "format")):
        args = node.expressions if isinstance(node, exp.Anonymous) else [node.this, *node.expressions]
        return _printf(node, args, sizes, bounds)
    if isinstance(node, exp.Anonymous) and node.name.lower() in ("zeroblob", "randomblob"):
        return Size(0.0, _count(node.expressions[0] if node.expressions else None, node, bounds) * 2)
    if isinstance(node, _CARRIES_TEXT):
        total = Size(0.0, 0)
        for child in node.iter_expressions():
            total = total + of(child)
        return total
    return _SMALL  # numbers, conditions, dates: small whatever they read


# Nodes whose text is at most the texts they hold, together.
_CARRIES_TEXT = (exp.Concat, exp.ConcatWs, exp.DPipe, exp.Paren, exp.Alias, exp.Case, exp.If, exp.Coalesce,
                 exp.Nullif, exp.Cast, exp.TryCast, exp.Substring, exp.Upper, exp.Lower, exp.Trim, exp.Left,
                 exp.Right, exp.Reverse, exp.Initcap, exp.Max, exp.Min, exp.GroupConcat, exp.Greatest,
                 exp.Least, exp.AnyValue, exp.First, exp.Last, exp.FirstValue, exp.LastValue, exp.Lag, exp.Lead,
                 exp.Window, exp.Translate, exp.Chr)


def _count(node: exp.Expr | None, call: exp.Expr, bounds: FunctionBounds) -> int:
    """The largest value a width or count argument can take; refused when it has no constant bound."""
    bound = upper_bound(node)
    if bound is None:
        raise FunctionLimit(f"{_name(call)}() is given a width or count that is not a constant; bound it, e.g. "
                            f"LEAST(n, 100), so the planner knows what the call may build.",
                            function=_name(call), limit=bounds.max_bytes, span=tree_span(call))
    return max(bound, 0)


def upper_bound(node: exp.Expr | None) -> int | None:
    """A constant upper bound of an integer expression, or None when there is none to see."""
    if node is None:
        return None
    if isinstance(node, exp.Paren | exp.Cast):
        return upper_bound(node.this)
    if isinstance(node, exp.Literal) and not node.is_string:
        try:
            return int(float(node.this))
        except ValueError:
            return None
    if isinstance(node, exp.Neg):
        return 0 if upper_bound(node.this) is not None else None
    if isinstance(node, exp.Least) or (isinstance(node, exp.Anonymous) and node.name.lower() == "min"):
        args = [node.this, *node.expressions] if isinstance(node, exp.Least) else node.expressions
        known = [b for b in (upper_bound(a) for a in args) if b is not None]
        return min(known) if known else None
    if isinstance(node, exp.Greatest | exp.Coalesce):
        bounds = [upper_bound(a) for a in [node.this, *node.expressions]]
        return None if any(b is None for b in bounds) else max(b for b in bounds if b is not None)
    if isinstance(node, exp.Case):
        branches = [i.args.get("true") for i in node.args.get("ifs") or []] + [node.args.get("default")]
        bounds = [upper_bound(b) if b is not None else 0 for b in branches]
        return None if any(b is None for b in bounds) else max(b for b in bounds if b is not None)
    return None


def _printf(node: exp.Expr, args: list[exp.Expr], sizes: dict[int, Size], bounds: FunctionBounds) -> Size:
    fmt = args[0] if args else None
    if not isinstance(fmt, exp.Literal) or not fmt.is_string:
        raise FunctionLimit(f"{_name(node)}() needs a constant format string, so the planner can bound what it "
                            f"builds.", function=_name(node), limit=bounds.max_bytes, span=tree_span(node))
    total = Size(0.0, len(fmt.this))
    rest = iter(args[1:])
    for _flags, width, precision, conversion in _SPEC.findall(fmt.this):
        if conversion == "%":
            continue
        for part in (width, precision):
            if part == "*":
                total = total + Size(0.0, _count(next(rest, None), node, bounds))
            elif part:
                total = total + Size(0.0, int(part))
        value = next(rest, None)
        total = total + (sizes.get(id(value), _SMALL) if value is not None else Size(0.0, 0))
    return total


def _key(node: exp.Expr) -> str:
    return node.name.lower() if isinstance(node, exp.Anonymous) else type(node).__name__


def _name(node: exp.Expr) -> str:
    if isinstance(node, exp.Anonymous):
        return node.name.upper()
    if isinstance(node, exp.Pad):
        return "LPAD" if node.args.get("is_left") else "RPAD"
    return node.sql_name() if isinstance(node, exp.Func) else type(node).__name__.upper()


def _limit(node: exp.Expr, size: Size, bounds: FunctionBounds) -> FunctionLimit:
    name = _name(node)
    if size.fixed > bounds.max_bytes:
        return FunctionLimit(f"{name}() may build about {size.fixed:,} bytes; one query may build at most "
                             f"{bounds.max_bytes:,} (widths, pads and repeats count). Ask for less.",
                             function=name, limit=bounds.max_bytes, span=tree_span(node))
    return FunctionLimit(f"{name}() may make the values it reads {size.growth:,.0f} times longer; one query may "
                         f"multiply them at most {bounds.max_growth:,} times (REPEAT, HEX, REPLACE count). "
                         f"Ask for less.", function=name, limit=bounds.max_growth, span=tree_span(node))
