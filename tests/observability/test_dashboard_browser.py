"""/dashboard in a real headless Chromium: sign in through the form, read the charts, take a screenshot.

Chromium is driven over the DevTools protocol (:mod:`tests.support.browser`, the driver the
workbench's tests use too), so the sign-in is a real form POST with the browser's own Origin
header and cookie jar — nothing is faked on the page's behalf.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.observability.live import serve
from tests.observability.seed import LATE_CONTRACT, run_queries, seed_contracts_and_drift
from tests.support.browser import Page, chromium, requests_outside
from tests.support.harness import Gateway


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Page]:
    with chromium(tmp_path / "profile", 1280, 1400) as page:
        yield page


@pytest.mark.slow
# One browser run is enough: the page reads the same panels whichever engine holds the catalog.
@pytest.mark.parametrize("catalog_url", ["sqlite"], indirect=True)
async def test_an_admin_signs_in_and_sees_charts_of_the_seeded_data(gateway: Gateway, browser: Page) -> None:
    await run_queries(gateway)
    seed_contracts_and_drift(gateway.settings.catalog_url)
    with serve(gateway.settings) as address:
        base = f"http://{address}"
        browser.navigate(f"{base}/dashboard")
        # No session yet: the browser lands on the sign-in form.
        browser.wait_for("document.location.pathname === '/dashboard/signin' && !!document.getElementById('token')")
        token = gateway.token("ADMIN")
        browser.evaluate(f"document.getElementById('token').value = {json.dumps(token)}; "
                         "document.getElementById('dev-signin').submit(); true")
        browser.wait_for("document.location.pathname === '/dashboard' && !!document.querySelector('svg.chart')")
        assert browser.evaluate("document.location.search") == ""  # the token never went into a URL
        assert browser.evaluate("document.cookie") == ""  # HttpOnly: scripts cannot read the session

        late = browser.evaluate(
            f"document.querySelector('#panel-ingestion_lag g.bar[data-label=\"{LATE_CONTRACT}\"]')"
            "?.getAttribute('data-value')")
        assert late is not None and float(late) > 3600
        breaking = browser.evaluate(
            "document.querySelector('#panel-drift g.bar[data-label=\"BREAKING\"]')?.getAttribute('data-value')")
        assert breaking == "2"
        charts = browser.evaluate("Array.from(document.querySelectorAll('section.panel svg.chart'))"
                                  ".map(s => s.closest('section').id)")
        for panel in ("panel-ingestion_lag", "panel-drift", "panel-conversion", "panel-guardrails",
                      "panel-latency", "panel-join_usage"):
            assert panel in charts, (panel, charts)
        # The stylesheet loaded (from the gateway itself): the BREAKING bar is drawn red.
        fill = browser.evaluate("getComputedStyle(document.querySelector("
                                "'#panel-drift g.bar[data-label=\"BREAKING\"] rect.fill')).fill")
        assert fill == "rgb(198, 40, 40)"
        resources = browser.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
        assert resources and all(name.startswith(base) for name in resources), resources

        assert not requests_outside(browser, base), browser.requests
        assert not any(token in url for url in browser.requests)
        shot = browser.screenshot("dashboard", 1280, full_page=True)
        assert shot.stat().st_size > 20_000
