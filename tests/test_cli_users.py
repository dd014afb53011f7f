"""``spyne users set-role`` and ``spyne users list`` (a rich table) as a user runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from gateway.store.engine import migrate

ENTRY = "import sys; from gateway.cli import main; sys.exit(main(sys.argv[1:]))"
REPO = Path(__file__).resolve().parents[1]


def test_users_are_listed_in_a_table(tmp_path: Path) -> None:
    catalog = f"sqlite:///{tmp_path / 'catalog.db'}"
    migrate(catalog)
    env = {**os.environ, "SPYNE_CATALOG_URL": catalog, "SPYNE_WAREHOUSE_URL": f"sqlite:///{tmp_path / 'w.db'}",
           "SPYNE_DEV_SECRET": "cli-test-secret-0123456789abcdef0123456789", "COLUMNS": "100"}

    def spyne(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", ENTRY, *args], env=env, capture_output=True, text=True,
                              timeout=120, cwd=REPO)

    assert spyne("users", "set-role", "ada@example.com", "admin").returncode == 0
    assert spyne("users", "set-role", "bob@example.com", "VIEWER").returncode == 0
    listed = spyne("users", "list")
    assert listed.returncode == 0, listed.stderr
    lines = [line.split() for line in listed.stdout.splitlines() if line.strip()]
    assert ["email", "role"] in lines
    assert ["ada@example.com", "ADMIN"] in lines and ["bob@example.com", "VIEWER"] in lines
