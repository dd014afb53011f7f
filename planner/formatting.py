"""format_sql(sql, dialect): the analyst's SQL pretty-printed in the same dialect, comments kept.

Formatting reads nothing from the catalog, so it reveals nothing; it only has to parse. Several
statements are each formatted (the editor may hold a scratch pad); what does not parse is
INVALID_SQL at the place it stops, as everywhere else.
"""

from __future__ import annotations

import sqlglot
from sqlglot.errors import ErrorLevel, ParseError, SqlglotError, TokenError

from planner.errors import InvalidSQL
from planner.locate import locate
from planner.model import ANALYST_DIALECTS
from planner.positions import unterminated_span


def format_sql(sql: str, dialect: str, max_bytes: int = 65_536) -> str:
    if dialect not in ANALYST_DIALECTS:
        raise InvalidSQL(f"Unknown SQL dialect {dialect!r}; use one of {', '.join(ANALYST_DIALECTS)}.")
    if len(sql.encode("utf-8")) > max_bytes:
        raise InvalidSQL(f"The query is over {max_bytes} bytes; shorten it.", line=1, column=1)
    try:
        statements = sqlglot.parse(sql, read=dialect, error_level=ErrorLevel.RAISE)
        return ";\n\n".join(s.sql(dialect=dialect, pretty=True, comments=True) for s in statements if s is not None)
    except ParseError as e:
        first = e.errors[0] if e.errors else {}
        error = InvalidSQL(f"Syntax error: {first.get('description') or 'could not parse the query'}.",
                           line=first.get("line") or 1, column=first.get("col") or 1)
    except TokenError:
        error = InvalidSQL("Syntax error: an unterminated string, identifier or comment.",
                           span=unterminated_span(sql, dialect))
    except (SqlglotError, RecursionError, ValueError, TypeError, KeyError, IndexError, AttributeError):
        error = InvalidSQL("The query could not be formatted; check its syntax.", line=1, column=1)
    raise locate(error, sql, dialect)
