"""Backfill sources: NDJSON, CSV or Parquet files under the archive directory, or a catalog table.

A source yields raw records ``(line number, raw text, parsed value | UNPARSED)`` one at a time, so
a large file never sits in memory; its fingerprint (size and modification time, or row count)
is what a confirmation checks to know the source did not change since the dry run.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.errors import InvalidInput
from gateway.services.ingestion_validate import UNPARSED
from gateway.warehouse.ingest_tables import IngestTables

FORMATS = {".ndjson": "NDJSON", ".jsonl": "NDJSON", ".json": "NDJSON", ".csv": "CSV", ".parquet": "PARQUET"}
Raw = tuple[int | None, str, Any]


@dataclass(frozen=True, slots=True)
class Source:
    kind: str  # NDJSON, CSV, PARQUET, TABLE
    location: str  # the resolved file path, or the physical table name
    label: str  # what the caller wrote, safe to show back
    open: Callable[[], Iterator[Raw]]
    fingerprint: Callable[[], str]


def resolve_archive_path(archive_dir: str, path: str) -> Path:
    """``path`` inside the archive directory, or INVALID_INPUT; symlinks are followed first."""
    root = Path(archive_dir).resolve()
    try:
        candidate = Path(path)
        full = (candidate if candidate.is_absolute() else root / candidate).resolve()
        inside, is_file = full.is_relative_to(root), full.is_file()
    except (OSError, ValueError):  # a NUL byte, a name too long for the file system, a symlink loop
        raise InvalidInput(f"{path[:200]!r} is not a usable file name under the archive directory.") from None
    if not inside:
        raise InvalidInput(f"{path!r} is outside the archive directory; backfill reads only files under it "
                           "(SPYNE_ARCHIVE_DIR).")
    if not is_file:
        raise InvalidInput(f"No file {path!r} in the archive directory.")
    return full


def file_source(archive_dir: str, path: str, fmt: str | None) -> Source:
    full = resolve_archive_path(archive_dir, path)
    kind = (fmt or FORMATS.get(full.suffix.lower(), "")).upper()
    readers = {"NDJSON": _ndjson, "CSV": _csv, "PARQUET": _parquet}
    if kind not in readers:
        raise InvalidInput(f"Cannot tell the format of {path!r}; pass format NDJSON, CSV or PARQUET.")
    if kind == "PARQUET":
        _require_pyarrow()

    def fingerprint() -> str:
        stat = os.stat(full)
        return f"file:{full}:{stat.st_size}:{stat.st_mtime_ns}"

    return Source(kind, str(full), path, lambda: readers[kind](full), fingerprint)


def table_source(tables: IngestTables, logical: str, physical_name: str) -> Source:
    def rows() -> Iterator[Raw]:
        for i, row in enumerate(tables.stream_table(physical_name), 1):
            yield (i, json.dumps(row, default=str), row)

    return Source("TABLE", physical_name, logical, rows,
                  lambda: f"table:{physical_name}:{tables.count(physical_name)}")


def _ndjson(path: Path) -> Iterator[Raw]:
    with path.open("r", encoding="utf-8", errors="replace", newline="\n") as handle:
        for number, line in enumerate(handle, 1):
            text = line.rstrip("\r\n")
            if text.strip():
                yield (number, text, UNPARSED)


def _csv(path: Path) -> Iterator[Raw]:
    with path.open("r", encoding="utf-8", errors="replace", newline="") as handle:
        reader = csv.DictReader(handle)
        for number, row in enumerate(reader, 2):  # line 1 is the header
            # An empty CSV cell is a missing value; a surplus cell arrives under the key None.
            value = {("_extra" if k is None else k): (None if v == "" else v) for k, v in row.items()}
            yield (number, json.dumps(row, default=str), value)


def _require_pyarrow() -> None:
    try:
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise InvalidInput("Parquet backfills need pyarrow, which is not installed here; "
                           "convert the file to NDJSON or CSV, or install pyarrow.") from None


def _parquet(path: Path) -> Iterator[Raw]:
    import pyarrow.parquet as pq

    number = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=10_000):
        for row in batch.to_pylist():
            number += 1
            yield (number, json.dumps(row, default=str), row)
