"""The lattice table and type normalisation: properties the table must keep as it grows."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from planner.drift import EDGES, DriftInputError, DriftSeverity, normalize_type, widening
from planner.drift.fit import DOES_NOT_FIT, FITS, UNKNOWN, fits
from planner.drift.lattice import INTEGER_BITS, LENGTH, NUMERIC, domain, holds, relate
from planner.drift.model import ColumnStats
from planner.drift.normalize import _KINDS

SAMPLE = [normalize_type(t, d) for t, d in (
    ("tinyint", None), ("smallint", None), ("mediumint", None), ("int", None), ("bigint", None),
    ("hugeint", "duckdb"), ("utinyint", "duckdb"), ("usmallint", "duckdb"), ("uinteger", "duckdb"),
    ("ubigint", "duckdb"), ("real", "postgres"), ("double precision", "postgres"),
    ("decimal(5,2)", None), ("decimal(6,2)", None), ("decimal(10,0)", None), ("decimal(12,2)", None),
    ("decimal(12,4)", None), ("decimal(20,2)", None), ("numeric", "postgres"),
    ("char(3)", None), ("varchar(3)", None), ("varchar(36)", None), ("varchar(40)", None),
    ("text", None), ("binary(16)", None), ("varbinary(16)", None), ("blob", None),
    ("uuid", None), ("date", None), ("timestamp(3)", None), ("timestamp", None),
    ("timestamptz", None), ("time(3)", None), ("time", None), ("timetz", "postgres"),
    ("boolean", None), ("json", None), ("jsonb", None), ("interval", None),
    ("integer[]", "postgres"), ("bigint[]", "postgres"), ("text[]", "postgres"),
)]


def test_severities_order_from_compatible_to_breaking() -> None:
    c, w, b = DriftSeverity.COMPATIBLE, DriftSeverity.WARNING, DriftSeverity.BREAKING
    assert c < w < b and b > w > c and c <= c and b >= w
    assert max([w, b, c]) is b and min([b, w]) is w
    assert sorted([b, c, w]) == [c, w, b]


def test_int4_integer_int_and_int32_are_one_type_across_engines() -> None:
    spellings = [("int4", "postgres"), ("INTEGER", "sqlite"), ("int", "duckdb"),
                 ("int32", "postgres"), ("int32", "duckdb"), ("integer", None)]
    assert len({normalize_type(t, d) for t, d in spellings}) == 1


def test_sqlglot_reads_engine_specific_widths() -> None:
    # The same word means different widths in different engines; normalisation follows.
    assert normalize_type("float", "postgres").kind == "DOUBLE"
    assert normalize_type("float", "duckdb").kind == "FLOAT"
    assert normalize_type("float4", "sqlite").kind == "DOUBLE"  # SQLite's REAL is 8 bytes
    assert normalize_type("varchar(20)", "duckdb").text == "TEXT"  # DuckDB ignores lengths
    assert normalize_type("varchar(20)", "sqlite").text == "VARCHAR(20)"  # the contract's word


@given(st.text(max_size=40), st.sampled_from([None, "postgres", "sqlite", "duckdb", "mysql"]))
def test_normalisation_never_raises(text: str, dialect: str | None) -> None:
    t = normalize_type(text, dialect)
    assert t.text is not None
    assert widening(t, t) == "SAME"


def test_an_unreadable_type_keeps_its_text_and_is_unknown() -> None:
    t = normalize_type("  mood ", "postgres")
    assert (t.kind, t.family, t.text, t.known) == ("UNKNOWN", "unknown", "mood", False)


def test_every_edge_names_families_that_normalisation_produces() -> None:
    families = {family for _, family in _KINDS.values()}
    for e in EDGES:
        assert e.old in families and e.new in families, e
    assert len({(e.old, e.new) for e in EDGES}) == len(EDGES), "one row per pair of families"


INTEGER_CHAIN = ["TINYINT", "SMALLINT", "MEDIUMINT", "INT", "BIGINT", "INT128", "INT256"]


@pytest.mark.parametrize(("narrow", "wide"), list(itertools.pairwise(INTEGER_CHAIN)))
def test_each_signed_integer_widens_into_the_next(narrow: str, wide: str) -> None:
    a, b = normalize_type(narrow), normalize_type(wide)
    assert (widening(a, b), widening(b, a)) == ("WIDEN", "NARROW")


UNSIGNED_INTO_SIGNED = {"UTINYINT": "SMALLINT", "USMALLINT": "INT", "UMEDIUMINT": "INT",
                        "UINT": "BIGINT", "UBIGINT": "INT128"}


@pytest.mark.parametrize(("unsigned", "signed"), list(UNSIGNED_INTO_SIGNED.items()))
def test_each_unsigned_integer_fits_the_next_wider_signed_one(unsigned: str, signed: str) -> None:
    u = normalize_type("mediumint unsigned", "mysql") if unsigned == "UMEDIUMINT" \
        else normalize_type(unsigned, "duckdb")
    assert u.kind == unsigned and not INTEGER_BITS[unsigned][1]
    s = normalize_type(signed, "duckdb")
    assert (widening(u, s), widening(s, u)) == ("WIDEN", "NARROW")


def test_decimal_domains_hold_what_their_digits_say() -> None:
    d = domain(normalize_type("decimal(5,2)"))
    assert (d.lo, d.hi, d.scale) == (Decimal("-999.99"), Decimal("999.99"), 2)
    assert holds(domain(normalize_type("decimal(6,2)")), d)
    assert not holds(domain(normalize_type("decimal(5,3)")), d)
    assert holds(domain(normalize_type("numeric", "postgres")), d)


def _interchangeable(a: object, b: object) -> bool:
    rel = relate(a, b)  # type: ignore[arg-type]
    return rel.edge == ("json", "json")


def test_widening_is_antisymmetric() -> None:
    for a, b in itertools.permutations(SAMPLE, 2):
        if widening(a, b) == "WIDEN" and not _interchangeable(a, b):
            assert widening(b, a) != "WIDEN", (a.text, b.text)


def test_widening_is_transitive() -> None:
    wider = {(a, b) for a, b in itertools.permutations(SAMPLE, 2) if widening(a, b) == "WIDEN"}
    for (a, b), c in itertools.product(wider, SAMPLE):
        if (b, c) in wider and a != c:
            assert widening(a, c) == "WIDEN", (a.text, b.text, c.text)


def test_every_pair_of_sample_types_gets_exactly_one_known_relation() -> None:
    for a, b in itertools.product(SAMPLE, SAMPLE):
        assert widening(a, b) in ("SAME", "WIDEN", "NARROW", "INCOMPATIBLE"), (a.text, b.text)


def test_fit_needs_the_statistic_that_decides() -> None:
    big, small = normalize_type("bigint"), normalize_type("smallint")
    assert fits(NUMERIC, big, small, None)[0] == UNKNOWN
    assert fits(NUMERIC, big, small, ColumnStats(max_length=3))[0] == UNKNOWN
    assert fits(NUMERIC, big, small, ColumnStats(min_value=-1, max_value=32767))[0] == FITS
    assert fits(NUMERIC, big, small, ColumnStats(min_value=-32769, max_value=0))[0] == DOES_NOT_FIT
    text, short = normalize_type("text"), normalize_type("varchar(4)")
    assert fits(LENGTH, text, short, ColumnStats(min_value=1, max_value=2))[0] == UNKNOWN
    assert fits(LENGTH, text, short, ColumnStats(max_length=5))[0] == DOES_NOT_FIT


def test_fit_accepts_floats_and_decimals_exactly() -> None:
    dbl, dec = normalize_type("double"), normalize_type("decimal(4,1)")
    assert fits(NUMERIC, dbl, dec, ColumnStats(min_value=0.5, max_value=999.9, max_scale=1))[0] == FITS
    assert fits(NUMERIC, dbl, dec, ColumnStats(min_value=0.5, max_value=1000, max_scale=1))[0] \
        == DOES_NOT_FIT
    verdict, why = fits(NUMERIC, dbl, normalize_type("int"),
                        ColumnStats(min_value=0, max_value=1e300, max_scale=0))
    assert verdict == DOES_NOT_FIT and "outside INT" in why


def test_an_unknown_dialect_is_an_input_error_not_a_schema_of_unknown_types() -> None:
    with pytest.raises(DriftInputError, match="Unknown SQL dialect 'postgress'") as err:
        normalize_type("int", "postgress")
    assert err.value.code == "INVALID_INPUT"
    assert normalize_type("int", "Postgres") == normalize_type("int", "postgres")
