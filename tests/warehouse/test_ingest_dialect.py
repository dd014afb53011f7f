"""Each ingest_dialect row reads its own DDL types back as the contract types they were made for."""

from __future__ import annotations

import pytest

from gateway.warehouse.ingest_dialect import DIALECTS


@pytest.mark.parametrize(("backend", "introspected", "declared"), [
    ("duckdb", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP"),
    ("mysql", "DATETIME(6)", "TIMESTAMP"), ("mariadb", "VARCHAR(191)", "TEXT"),
    ("postgresql", "TIMESTAMP", "TIMESTAMP"),  # SQLAlchemy's reflection reads TIMESTAMPTZ so already
    ("sqlite", "TIMESTAMP", "TIMESTAMP"),
    ("mysql", "BIGINT", "BIGINT"), ("duckdb", "VARCHAR", "VARCHAR"),  # only what the row maps
])
def test_a_managed_columns_type_reads_back_as_declared(backend: str, introspected: str, declared: str) -> None:
    assert DIALECTS[backend].declared_type(introspected) == declared
