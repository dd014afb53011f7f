"""``spyne ingest`` and ``spyne backfill`` as a user runs them: a real subprocess on SQLite."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ingestion.conftest import event, register, target, warehouse_rows
from tests.support.harness import Gateway

# What the `spyne` console script runs (``python -m gateway.cli`` would register commands twice).
ENTRY = "import sys; from gateway.cli import main; sys.exit(main(sys.argv[1:]))"


def spyne(gw: Gateway, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SPYNE_CATALOG_URL": gw.settings.catalog_url,
           "SPYNE_WAREHOUSE_URL": gw.settings.warehouse_url, "SPYNE_ARCHIVE_DIR": gw.settings.archive_dir,
           "SPYNE_DEV_SECRET": "cli-test-secret-0123456789abcdef0123456789"}
    return subprocess.run([sys.executable, "-c", ENTRY, *args], env=env, capture_output=True, text=True,
                          timeout=120, cwd=Path(__file__).resolve().parents[2])


# The CLI path is the same on every backend: run it once.
@pytest.mark.parametrize("catalog_url", ["sqlite"], indirect=True)
async def test_cli_ingest_then_backfill_with_progress(gw: Gateway, archive: Path, tmp_path: Path) -> None:
    await register(gw)
    feed = tmp_path / "feed.ndjson"
    feed.write_text("\n".join(json.dumps(event(i)) for i in range(1, 101)) + "\nnot json\n")
    done = spyne(gw, "ingest", str(feed), "--contract", "events")
    assert done.returncode == 0, done.stderr
    assert "100 accepted, 0 duplicates, 1 quarantined" in done.stdout
    (archive / "old.ndjson").write_text("\n".join(json.dumps(event(i)) for i in range(50, 301)) + "\n")
    done = spyne(gw, "backfill", "--contract", "events", "--path", "old.ndjson", "--from", "2025-01-01T00:00:00Z",
                 "--to", "2026-01-01T00:00:00Z", "--dedupe", "IDEMPOTENCY_KEY", "--batch-size", "50", "--yes")
    assert done.returncode == 0, done.stderr
    assert "251 records in range, 200 new, 51 duplicates" in done.stdout
    assert "100.0%" in done.stderr and "DONE: 6 batches" in done.stdout
    assert warehouse_rows(gw, f"SELECT COUNT(*), MIN(id), MAX(id) FROM {target(gw)}") == [(300, 1, 300)]
