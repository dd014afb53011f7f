"""Where in the analyst's text something is: spans of characters, and (line, column) ranges.

sqlglot records on identifiers, functions and tokens the offsets of their first and last
character (``start``/``end``, inclusive) and the column where they *end*. Everything here works
in half-open character spans ``(start, end)`` and turns them into 1-based (line, column) ranges
only at the edge, so a range always covers exactly the offending text.

    SELEC status FROM orders          locate() moves a parse error from the token where the
    ^^^^^                             parser gave up back to the word that is not a keyword
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ErrorLevel, SqlglotError
from sqlglot.tokens import Token, TokenType

Span = tuple[int, int]  # character offsets, half-open


@dataclass(frozen=True, slots=True)
class Position:
    line: int  # 1-based
    column: int  # 1-based, in characters


@dataclass(frozen=True, slots=True)
class Range:
    start: Position
    end: Position  # just past the last character, LSP style


def position(sql: str, offset: int) -> Position:
    offset = max(0, min(offset, len(sql)))
    line = sql.count("\n", 0, offset) + 1
    return Position(line, offset - (sql.rfind("\n", 0, offset) + 1) + 1)


def to_range(sql: str, span: Span) -> Range:
    return Range(position(sql, span[0]), position(sql, max(span)))


def offset_of(sql: str, line: int, column: int) -> int:
    """The character offset of a 1-based (line, column); clamped to the text."""
    offset = 0
    for _ in range(max(line, 1) - 1):
        found = sql.find("\n", offset)
        if found < 0:
            return len(sql)
        offset = found + 1
    end = sql.find("\n", offset)
    end = len(sql) if end < 0 else end
    return min(offset + max(column, 1) - 1, end)


def node_span(node: exp.Expr) -> Span | None:
    """The characters a node was parsed from, when sqlglot kept them (identifiers, functions)."""
    meta = node.meta if node._meta else None  # reading .meta creates a dict on every node
    if meta and meta.get("start") is not None and meta.get("end") is not None:
        start, end = meta["start"], meta["end"] + 1
        if isinstance(node, exp.Identifier) and node.quoted:
            start, end = start - 1, end + 1  # the quotes belong to the name as it was written
        return start, end
    spans = [s for child in node.iter_expressions() if (s := node_span(child)) is not None]
    if not spans:
        return None
    return min(s[0] for s in spans), max(s[1] for s in spans)


def tree_span(node: exp.Expr) -> Span | None:
    """The characters of a node and everything under it (a call from its name to its last argument)."""
    spans = [s for n in node.walk() if n._meta and (s := node_span(n)) is not None]
    if not spans:
        return node_span(node)
    return min(s[0] for s in spans), max(s[1] for s in spans)


@dataclass(frozen=True, slots=True)
class Extent:
    """How to widen a span the tree kept only part of into the whole offending text.

    ``keyword``: the word the text begins with (``ROLLUP``, ``FILTER``, ``ROWS``): the nearest one
    at or before the span, else the first after it. ``enclosing``: take in the parentheses that
    wrap the span (a nested expression, a subquery). Parentheses the text opens are always closed.
    """

    keyword: str | None = None
    enclosing: bool = False
    after: bool = False  # the keyword follows what the tree knew (a window frame after ORDER BY)


def widen(sql: str, dialect: str, span: Span, how: Extent) -> Span:
    """The whole text of what ``span`` is part of: a call with its parentheses, a construct from its keyword."""
    found = [t for t in tokens(sql, dialect) if t.token_type is not TokenType.SEMICOLON]
    if not found:
        return span
    start, end = span
    if how.keyword is not None:
        word = how.keyword.upper()
        before = [t for t in found if t.start <= start and t.text.upper() == word]
        after = [t for t in found if t.start >= (end if how.after else start) and t.text.upper() == word]
        chosen = after[0] if how.after and after else before[-1] if before else after[0] if after else None
        if chosen is not None:
            start = chosen.start
            end = start if how.after else max(end, start)
    first = next((i for i, t in enumerate(found) if t.end >= start), len(found) - 1)
    last = max((i for i, t in enumerate(found) if t.start < end), default=first)
    if last < first:  # the keyword came after what the tree knew: the text runs to its enclosing `)`
        last, depth = first, 0
        while last + 1 < len(found) and depth + _paren(found[last + 1]) >= 0:
            last += 1
            depth += _paren(found[last])
    lowest = depth = 0
    for t in found[first:last + 1]:
        depth += _paren(t)
        lowest = min(lowest, depth)
    while lowest < 0 and first > 0:  # a `)` the text closes: back to its `(`, and the call's name
        first -= 1
        lowest += _paren(found[first])
        if lowest == 0 and first > 0 and _names_a_call(found[first - 1]):
            first -= 1
    depth = sum(_paren(t) for t in found[first:last + 1])
    if depth == 0 and last + 1 < len(found) and found[last + 1].token_type is TokenType.L_PAREN \
            and _paren(found[last]) == 0:
        last, depth = last + 1, 1  # a name right before `(`: the call's arguments belong to it
    while depth > 0 and last + 1 < len(found):  # close what the text opens
        last += 1
        depth += _paren(found[last])
    if how.enclosing:
        while first > 0 and last + 1 < len(found) and _paren(found[first - 1]) == 1 and _paren(found[last + 1]) == -1:
            first, last = first - 1, last + 1
    return min(token_span(found[first])[0], start), max(token_span(found[last])[1], end)


def _paren(token: Token) -> int:
    return 1 if token.token_type is TokenType.L_PAREN else -1 if token.token_type is TokenType.R_PAREN else 0


def _names_a_call(token: Token) -> bool:
    """A word before `(` that is a function's name (CAST, LEFT, my_fn), not a clause (FROM, IN, AS)."""
    word = token.text.upper()
    return word.replace("_", "a").isalnum() and (word in ("LEFT", "RIGHT") or word not in CLAUSE_KEYWORDS)


def name_span(node: exp.Expr) -> Span | None:
    """The span of a column's or table's own name (``status`` in ``o.status``)."""
    ident = node.this if isinstance(node, exp.Column | exp.Table) else node
    return node_span(ident) if isinstance(ident, exp.Expr) else None


def tokens(sql: str, dialect: str) -> list[Token]:
    """The tokens of ``sql``; as many as the tokenizer reads before it fails."""
    d = Dialect.get_or_raise(dialect)
    tokenizer = d.tokenizer_class(dialect=d)
    try:
        return tokenizer.tokenize(sql)
    except SqlglotError:
        return list(tokenizer.tokens)


def token_span(token: Token) -> Span:
    start = token.start
    if token.token_type in (TokenType.STRING, TokenType.IDENTIFIER):
        start -= 1  # quotes: the token's text is what is between them
    return start, token.end + 1


# Words that begin a clause: a bare word close to one of these, where the parser gave up, is a typo.
CLAUSE_KEYWORDS = ("SELECT", "FROM", "WHERE", "GROUP", "ORDER", "BY", "HAVING", "LIMIT", "OFFSET", "JOIN",
                   "LEFT", "RIGHT", "INNER", "OUTER", "FULL", "CROSS", "ON", "USING", "UNION", "INTERSECT",
                   "EXCEPT", "WITH", "AS", "DISTINCT", "AND", "OR", "NOT", "BETWEEN", "CASE", "WHEN", "THEN",
                   "ELSE", "END", "QUALIFY", "WINDOW", "OVER", "PARTITION", "LIKE", "NULL", "IS", "IN")


def syntax_error_span(sql: str, dialect: str, line: int, column: int) -> tuple[Span, str | None]:
    """The span to blame for a parse error sqlglot reported at (line, column), and a keyword fix.

    sqlglot reports the token where it gave up, which is often one past the mistake: in
    ``SELEC status FROM orders`` it gives up at ``FROM``. A bare word at or just before that
    point that is close to a clause keyword, and whose replacement by it makes the query parse,
    is the likelier culprit; it is blamed, with its fix.
    """
    found = tokens(sql, dialect)
    if not found:
        return (0, len(sql)), None
    at = offset_of(sql, line, column) - 1  # sqlglot's column is that of the token's last character
    failed = next((i for i, t in enumerate(found) if t.start <= at <= t.end), None)
    if failed is None:
        failed = next((i for i, t in enumerate(found) if t.start > at), len(found) - 1)
    for token in reversed(found[max(0, failed - 3): failed + 1]):
        if token.token_type is not TokenType.VAR:
            continue
        for keyword in difflib.get_close_matches(token.text.upper(), CLAUSE_KEYWORDS, n=2, cutoff=0.75):
            if keyword != token.text.upper() and _parses_with(sql, dialect, token, keyword):
                return token_span(token), keyword
    return token_span(found[failed]), None


def _parses_with(sql: str, dialect: str, token: Token, keyword: str) -> bool:
    fixed = sql[:token.start] + keyword + sql[token.end + 1:]
    try:
        sqlglot.parse(fixed, read=dialect, error_level=ErrorLevel.RAISE)
    except (SqlglotError, RecursionError, ValueError, TypeError, KeyError, IndexError, AttributeError):
        return False
    return True


def unterminated_span(sql: str, dialect: str) -> Span:
    """From the opening quote (or comment) the tokenizer could not close, to the end."""
    found = tokens(sql, dialect)
    start = found[-1].end + 1 if found else 0
    while start < len(sql) and sql[start].isspace():
        start += 1
    return min(start, len(sql)), len(sql)


@dataclass(frozen=True, slots=True)
class Fix:
    """A quick fix: replace the text at ``span`` with ``replacement``."""

    message: str
    replacement: str
    span: Span
