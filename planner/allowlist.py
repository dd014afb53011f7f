"""What a query may contain, as data: AST node types and functions. Anything else is refused.

An allow-list, not a deny-list: a new sqlglot node type or function is refused until someone
decides it is safe and adds it here.
"""

from __future__ import annotations

from sqlglot import exp

# Syntax that makes up read-only queries. Functions are checked separately (see below).
ALLOWED_NODES: frozenset[type[exp.Expr]] = frozenset({
    exp.Select, exp.Union, exp.Intersect, exp.Except, exp.Subquery, exp.With, exp.CTE, exp.TableAlias,
    exp.From, exp.Join, exp.Table, exp.Identifier, exp.Column, exp.Star, exp.Alias, exp.Aliases,
    exp.Literal, exp.Boolean, exp.Null, exp.Where, exp.Group, exp.Having, exp.Order, exp.Ordered, exp.Limit,
    exp.Fetch, exp.LimitOptions, exp.Offset, exp.Distinct, exp.Paren, exp.Tuple, exp.Values, exp.Qualify,
    exp.Window, exp.WindowSpec, exp.Filter, exp.Interval, exp.Var, exp.DataType, exp.DataTypeParam, exp.Any,
    exp.All, exp.Escape, exp.Between, exp.In, exp.Is, exp.Like, exp.ILike, exp.SimilarTo, exp.Not, exp.Neg,
    exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.NullSafeEQ, exp.NullSafeNEQ, exp.Add, exp.Sub,
    exp.Mul, exp.Div, exp.IntDiv, exp.Mod, exp.DPipe, exp.BitwiseAnd, exp.BitwiseOr, exp.BitwiseXor,
    exp.BitwiseNot, exp.BitwiseLeftShift, exp.BitwiseRightShift, exp.If, exp.RespectNulls, exp.IgnoreNulls,
    exp.HavingMax, exp.Bracket, exp.Slice, exp.Kwarg, exp.Check,
    # Analytic constructs: allowed here, then refused per warehouse where it does not run them
    # (planner.capabilities lists which warehouse runs which).
    exp.Rollup, exp.Cube, exp.GroupingSets, exp.Lateral, exp.WithinGroup,
})

# Functions by sqlglot class name: aggregates, windows, math, text, dates, conditionals.
ALLOWED_FUNCTIONS: frozenset[str] = frozenset([
    "Abs", "Acos", "Asin", "Atan", "Atan2", "Cbrt", "Ceil", "Cos", "Cot", "Degrees", "Exp", "Floor", "Ln",
    "Log", "Pi", "Pow", "Radians", "Round", "Sign", "Sin", "Sqrt", "Tan", "Trunc", "Greatest", "Least",
    "SafeDivide", "Avg", "Count", "CountIf", "Max", "Min", "Sum", "Stddev", "StddevPop", "StddevSamp",
    "Variance", "VariancePop", "Median", "Corr", "CovarPop", "CovarSamp", "PercentileCont",
    "PercentileDisc", "ApproxDistinct", "AnyValue", "GroupConcat", "ArrayAgg", "LogicalAnd", "LogicalOr",
    "Mode", "First", "Last", "ArgMax", "ArgMin", "RowNumber", "Rank", "DenseRank", "PercentRank",
    "CumeDist", "Ntile", "Lag", "Lead", "FirstValue", "LastValue", "NthValue", "Ascii", "Chr", "Concat",
    "ConcatWs", "Initcap", "Left", "Length", "Lower", "Pad", "Repeat", "Replace", "Reverse", "Right",
    "StrPosition", "Substring", "Trim", "Upper", "Translate", "SplitPart", "StartsWith", "EndsWith",
    "Contains", "RegexpLike", "RegexpILike", "RegexpReplace", "RegexpExtract", "Levenshtein", "Hex", "MD5",
    "Case", "If", "Coalesce", "Nullif", "Cast", "TryCast", "Exists", "Extract", "And", "Or", "Xor", "Nvl2",
    "Decode", "CurrentDate", "CurrentTime", "CurrentTimestamp", "Date", "Datetime", "DateAdd", "DateSub",
    "DateDiff", "DateTrunc", "TimestampTrunc", "DatetimeTrunc", "TimeToStr", "StrToDate", "StrToTime",
    "TsOrDsToDate", "TsOrDsAdd", "TsOrDsDiff", "TimeStrToTime", "TimeStrToDate", "DateStrToDate",
    "UnixToTime", "TimeToUnix", "Year", "Month", "Day", "DayOfMonth", "DayOfWeek", "DayOfYear",
    "WeekOfYear", "Quarter", "Hour", "Minute", "Second", "LastDay", "AddMonths", "Timestamp",
    "TimestampAdd", "TimestampSub", "TimestampDiff", "DatetimeAdd", "DatetimeSub", "DatetimeDiff",
    "TsOrDsToTimestamp", "TsOrDsToDatetime", "TsOrDsToTime", "TsOrDsToDateStr", "UnixToStr", "StrToUnix",
    "TimeToTimeStr", "DateToDateStr", "Anonymous",
    # Plain names sqlglot has since learned to model (formerly in ALLOWED_ANONYMOUS), and GROUPING().
    "Grouping", "IsNan", "WidthBucket", "Format", "Dayname", "Monthname", "DecodeCase",
])

# Plain-named functions sqlglot does not model (sqlite's date helpers and friends).
ALLOWED_ANONYMOUS: frozenset[str] = frozenset({
    "strftime", "julianday", "date", "datetime", "time", "unixepoch", "printf", "ifnull", "instr", "ltrim",
    "rtrim", "nullif", "iif", "total", "to_char", "to_date", "to_timestamp", "date_part", "age",
    "char_length", "character_length", "octet_length", "lpad", "rpad", "btrim", "position", "div", "power",
    "mod", "log10", "log2", "isnan", "epoch", "string_agg", "bool_and", "bool_or", "every", "width_bucket",
    "format", "make_date", "dayname", "monthname",
})

# Named so the refusal message can say why; refused anyway since they are not allowed above.
FORBIDDEN_FUNCTIONS: frozenset[str] = frozenset({
    "pg_read_file", "pg_read_binary_file", "pg_ls_dir", "pg_stat_file", "pg_sleep", "lo_import",
    "lo_export", "lo_get", "lo_put", "dblink", "dblink_exec", "dblink_connect", "load_extension",
    "readfile", "writefile", "edit", "fts3_tokenizer", "read_csv", "read_csv_auto", "read_parquet",
    "read_json", "read_json_auto", "read_text", "read_blob", "parquet_scan", "glob", "http_get",
    "http_post", "query_to_xml", "set_config", "current_setting", "nextval", "setval",
    "pg_terminate_backend", "pg_cancel_backend", "copy", "sqlite_compileoption_get", "readcsv",
    "readparquet", "tofile", "secret", "nextvaluefor",
})

# Clauses that turn a SELECT into something that writes, locks or escapes.
STATEMENT_NODES: frozenset[type[exp.Expr]] = frozenset({
    exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Create, exp.Drop, exp.Alter, exp.Command, exp.Into,
    exp.Lock, exp.Pragma, exp.Set, exp.Copy, exp.Use, exp.Transaction, exp.Commit, exp.Rollback,
    exp.Describe, exp.TruncateTable, exp.Returning, exp.Block,
})
