"""Copy the SQLite demo warehouse into a PostgreSQL database, so queries run on both engines."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

TYPE_MAP = {"INTEGER": "BIGINT", "TEXT": "TEXT", "NUMERIC": "NUMERIC(12,2)", "REAL": "DOUBLE PRECISION",
            "TIMESTAMP": "TIMESTAMPTZ", "DATE": "DATE", "BOOLEAN": "BOOLEAN"}


def pg_dsn(url: str) -> str:
    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def copy_demo_to_postgres(sqlite_file: Path, pg_url: str) -> list[str]:
    source = sqlite3.connect(sqlite_file)
    tables = [r[0] for r in source.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    with psycopg.connect(pg_dsn(pg_url), autocommit=False) as target:
        for table in tables:
            info = source.execute(f'PRAGMA table_info("{table}")').fetchall()
            columns = ", ".join(
                f'"{c[1]}" {TYPE_MAP.get((c[2] or "TEXT").split("(")[0].upper(), "TEXT")}'
                + (" PRIMARY KEY" if c[5] == 1 else "") + (" NOT NULL" if c[3] and c[5] != 1 else "")
                for c in info)
            target.execute(f'CREATE TABLE "{table}" ({columns})')
            names = ", ".join(f'"{c[1]}"' for c in info)
            with target.cursor().copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
                for row in source.execute(f'SELECT {names} FROM "{table}"'):
                    copy.write_row(row)
        target.commit()
    source.close()
    return tables
