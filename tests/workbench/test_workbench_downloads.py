""""Download all" in a real Chromium: the file that arrives holds every row of the preview.

The gateway's interactive row cap is set low (``SPYNE_MAX_ROWS`` = 100), so the grid shows the
first rows and says more exist, while the download (``POST /previews/{id}/result``, with the
override ticked for the preview) streams all of them. Chromium saves into a folder the test
reads (``Browser.setDownloadBehavior``); the CSV and the Arrow stream are compared with the rows
read straight from the warehouse file.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyarrow.ipc
import pytest

from tests.observability.live import serve
from tests.support.browser import Page
from tests.support.harness import Gateway
from tests.workbench.steps import assert_only_local, replace_sql, sign_in

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("catalog_url", ["sqlite"], indirect=True)]

ROW_CAP = 100
# A guardrail that needs an override (CARTESIAN_PRODUCT), and more rows than the cap: 2 × orders.
SQL = "SELECT c.id AS customer_id, o.id AS order_id, o.status FROM customers c, orders o WHERE c.id <= 2"


@pytest.fixture
def capped(gateway: Gateway, workbench_assets_installed: None) -> Iterator[str]:
    with serve(dataclasses.replace(gateway.settings, max_rows=ROW_CAP)) as address:
        yield f"http://{address}"


async def expected_rows(gateway: Gateway) -> list[tuple[int, int, str]]:
    """The rows straight from the warehouse file, by the physical names the catalog resolves to."""
    tables = await gateway.ok('{ customers: table(name: "customers") { activeVersion versions { version physicalName } }'
                              '  orders: table(name: "orders") { activeVersion versions { version physicalName } } }')
    physical = {}
    for name, table in tables.items():
        versions = {v["version"]: v["physicalName"] for v in table["versions"]}
        physical[name] = versions[table["activeVersion"]] if table["activeVersion"] else next(iter(versions.values()))
    warehouse = gateway.settings.warehouse_url.removeprefix("sqlite:///")
    with sqlite3.connect(f"file:{warehouse}?mode=ro", uri=True) as db:
        rows = db.execute(f'SELECT c.id, o.id, o.status FROM "{physical["customers"]}" c, "{physical["orders"]}" o '
                          "WHERE c.id <= 2").fetchall()
    return sorted((int(a), int(b), str(s)) for a, b, s in rows)


def download(page: Page, folder: Path, button: str, pattern: str) -> Path:
    page.click(button)
    page.wait_for("document.querySelector('.download-status')?.dataset.file || "
                  "document.querySelector('.download-status .error')")
    assert not page.evaluate("document.querySelector('.download-status .error')?.innerText || ''")
    return page.downloaded(folder, pattern)


async def test_download_all_saves_every_row_as_csv_and_as_arrow(gateway: Gateway, capped: str, page: Page,
                                                                tmp_path: Path) -> None:
    expected = await expected_rows(gateway)
    assert len(expected) > ROW_CAP
    folder = tmp_path / "downloads"
    page.save_downloads_to(folder)
    sign_in(page, capped, gateway.token("ANALYST"))
    replace_sql(page, SQL)
    page.press("Enter", "Control")
    page.wait_for("!!document.getElementById('override-CARTESIAN_PRODUCT')")
    page.click("#override-CARTESIAN_PRODUCT")
    page.wait_for("document.getElementById('execute').disabled === false")
    page.click("#execute")
    page.wait_for("!!document.querySelector('#results-panel .row-count')")
    # The grid has the first rows only, and says there are more.
    assert int(page.evaluate("document.querySelector('.row-count').dataset.rows")) == ROW_CAP
    assert page.evaluate("!!document.querySelector('.flag.truncated')")
    assert page.evaluate("!!document.querySelector('.has-more')")

    saved = download(page, folder, "button.download[data-accept='text/csv']", "*.csv")
    preview_id = page.evaluate("document.querySelector('#preview-panel .preview-head .muted').textContent")
    assert saved.name.startswith("result-") and saved.name.removeprefix("result-").removesuffix(".csv") in preview_id
    lines = list(csv.reader(io.StringIO(saved.read_text(encoding="utf-8"))))
    assert lines[0] == ["customer_id", "order_id", "status"]
    assert len(lines) - 1 == len(expected)
    assert sorted((int(a), int(b), s) for a, b, s in lines[1:]) == expected
    page.screenshot("14-download-csv")

    arrow = download(page, folder, "button.download[data-accept='application/vnd.apache.arrow.stream']", "*.arrows")
    table = pyarrow.ipc.open_stream(arrow.read_bytes()).read_all()
    assert table.column_names == ["customer_id", "order_id", "status"]
    assert table.num_rows == len(expected)
    got = zip(*(table.column(n).to_pylist() for n in table.column_names), strict=True)
    assert sorted((int(a), int(b), str(s)) for a, b, s in got) == expected

    # Each download was an execution of that preview, listed in History.
    page.click("#tab-history")
    page.wait_for("document.querySelector('ol.history li')?.textContent.includes('ran 3×')")

    # The catalog moves on (an admin deprecates what the preview resolved to): a download now is
    # refused, and the page shows the endpoint's own code and message, nothing else.
    # (Through the live server: this test's own event loop is busy driving the browser.)
    async with httpx.AsyncClient(base_url=capped) as client:
        deprecated = await client.post("/graphql", headers={"Authorization": f"Bearer {gateway.token('ADMIN')}"},
                                       json={"query": 'mutation { deprecateTable(table: "orders", version: 2, '
                                                      'reason: "test") { message } }'})
    assert not deprecated.json().get("errors"), deprecated.json()
    page.click("#tab-results")
    page.click("button.download[data-accept='text/csv']")
    page.wait_for("!!document.querySelector('.download-status .error')")
    shown = page.evaluate("(() => { const e = document.querySelector('.download-status .error'); "
                          "return [e.dataset.code, e.querySelector('.message').textContent]; })()")
    preview_id = saved.name.removeprefix("result-").removesuffix(".csv")
    async with httpx.AsyncClient(base_url=capped) as client:
        refused = await client.post(f"/previews/{preview_id}/result", json={"overrides": ["CARTESIAN_PRODUCT"]},
                                    headers={"Authorization": f"Bearer {gateway.token('ANALYST')}",
                                             "Accept": "text/csv"})
    error = refused.json()["errors"][0]
    assert refused.status_code >= 400 and shown == [error["extensions"]["code"], error["message"]], (shown, error)
    assert "Traceback" not in page.evaluate("document.body.innerText")
    page.screenshot("15-download-refused")
    assert_only_local(page, capped)
