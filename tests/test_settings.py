"""Settings: the environment, over a ``.env`` file read by python-dotenv."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.settings import load_settings

SECRET = "a-dev-secret-of-at-least-32-bytes-0123456789"


def test_a_dotenv_file_is_read_with_quotes_exports_and_comments(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text(
        "# the gateway's settings\n"
        "export SPYNE_MAX_ROWS=250  # a comment after the value\n"
        'SPYNE_ROLE_CLAIM="groups # not a comment"\n'
        "SPYNE_TOKEN_MAX_LIFETIME_S='3600'\n"
        "SPYNE_WAREHOUSE_URL=sqlite:///w.db\n"
        "NOT A VALID LINE\n")
    monkeypatch.chdir(tmp_path)
    settings = load_settings({"SPYNE_DEV_SECRET": SECRET, "SPYNE_WAREHOUSE_URL": "sqlite:///from-env.db"})
    assert settings.max_rows == 250
    assert settings.role_claim == "groups # not a comment"
    assert settings.token_max_lifetime_seconds == 3600
    assert settings.warehouse_url == "sqlite:///from-env.db"  # the environment wins


def test_without_a_dotenv_file_the_defaults_hold(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings({"SPYNE_DEV_SECRET": SECRET})
    assert settings.max_rows == 10_000 and settings.max_query_selections == 2_000


def test_a_limit_that_is_not_a_number_stops_the_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit, match="SPYNE_MAX_QUERY_SELECTIONS"):
        load_settings({"SPYNE_DEV_SECRET": SECRET, "SPYNE_MAX_QUERY_SELECTIONS": "lots"})
