"""/workbench over HTTP (no browser): the shell, its headers and files, and the history API it reads."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from gateway.http import workbench_assets
from gateway.http.workbench import OWN_DIR
from gateway.http.workbench_assets import asset_versions
from gateway.http.workbench_page import render_page
from tests.support.harness import Gateway

# The page and its files do not depend on the catalog engine; the history query runs on both.
SQLITE = pytest.mark.parametrize("catalog_url", ["sqlite"], indirect=True)

HISTORY = """{ queryHistory(first: 10) { previewId originalSql guardrails expired
  executions { executionId status rowCount overrides } } }"""


@SQLITE
async def test_the_page_loads_only_its_own_files_under_a_strict_policy(gateway: Gateway,
                                                                       workbench_assets_installed: None) -> None:
    response = await gateway.client.get("/workbench")
    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy)
    assert nonce and "connect-src 'self'" in policy and "http" not in policy
    assert response.headers["cache-control"] == "no-store"
    page = response.text
    mapping = json.loads(re.search(r'<script type="importmap" nonce="([^"]+)">(.*?)</script>', page).group(2))  # type: ignore[union-attr]
    urls = [*mapping["imports"].values(), *re.findall(r'(?:src|href)="(/[^"]+)"', page)]
    assert set(workbench_assets.MODULES) <= set(mapping["imports"])
    assert not re.search(r'(src|href)="(https?:)?//', page)
    for url in urls:
        assert url.startswith("/workbench/"), url
        assert (await gateway.client.get(url)).status_code == 200, url
    second = await gateway.client.get("/workbench")
    assert re.search(r"'nonce-([^']+)'", second.headers["content-security-policy"]).group(1) != nonce.group(1)  # type: ignore[union-attr]


@SQLITE
@pytest.mark.parametrize("path", ["/workbench/vendor/manifest.json", "/workbench/vendor/..%2F..%2Fapp.py",
                                  "/workbench/static/..%2Fdashboard.js", "/workbench/static/Main.JS",
                                  "/workbench/static/missing.js"])
async def test_nothing_but_the_listed_files_is_served(gateway: Gateway, path: str) -> None:
    assert (await gateway.client.get(path)).status_code == 404


async def test_history_lists_only_the_callers_own_previews_with_their_executions(gateway: Gateway) -> None:
    mine = await gateway.ok("mutation { previewQuery(input: {sql: \"SELECT id FROM orders\"}) { id } }", role="ANALYST")
    await gateway.ok("mutation($id: ID!) { executeQuery(previewId: $id) { rowCount } }",
                     {"id": mine["previewQuery"]["id"]}, role="ANALYST")
    await gateway.ok("mutation { previewQuery(input: {sql: \"SELECT name FROM customers\"}) { id } }",
                     role="ANALYST", email="someone-else@example.com")
    entries = (await gateway.ok(HISTORY, role="ANALYST"))["queryHistory"]
    assert [e["originalSql"] for e in entries] == ["SELECT id FROM orders"]
    assert entries[0]["previewId"] == mine["previewQuery"]["id"] and entries[0]["expired"] is False
    assert [(x["status"], x["rowCount"] > 0) for x in entries[0]["executions"]] == [("OK", True)]
    # An admin's history is their own as well: other people's previews are not listed.
    assert (await gateway.ok(HISTORY, role="ADMIN"))["queryHistory"] == []


async def test_history_is_newest_first_and_needs_a_token(gateway: Gateway) -> None:
    for sql in ("SELECT 1 AS a FROM orders", "SELECT c.name, o.id FROM customers c, orders o"):
        await gateway.ok("mutation($s: String!) { previewQuery(input: {sql: $s}) { id } }", {"s": sql}, role="VIEWER")
    entries = (await gateway.ok(HISTORY, role="VIEWER"))["queryHistory"]
    assert entries[0]["guardrails"] == ["CARTESIAN_PRODUCT"] and entries[0]["executions"] == []
    assert len(entries) == 2
    assert await gateway.error_code(HISTORY, role=None) == "UNAUTHENTICATED"


def test_without_its_assets_the_page_says_how_to_install_them(tmp_path: Path) -> None:
    html, headers = render_page("n0nce", asset_versions(tmp_path), own_dir=OWN_DIR)
    assert 'type="importmap"' not in html
    config = json.loads(re.search(r'<script type="application/json" id="workbench-config">(.*?)</script>', html).group(1))  # type: ignore[union-attr]
    assert config["assetsReady"] is False
    assert config["installCommand"] == "python -m gateway.http.workbench_assets install"
    assert "'nonce-n0nce'" in headers["Content-Security-Policy"]
