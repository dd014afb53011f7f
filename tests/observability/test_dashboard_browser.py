"""/dashboard in a real headless Chromium: sign in through the form, read the charts, take a screenshot.

Chromium is driven over the DevTools protocol (a WebSocket), so the sign-in is a real form POST
with the browser's own Origin header and cookie jar — nothing is faked on the page's behalf.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

from tests.observability.live import serve
from tests.observability.seed import LATE_CONTRACT, run_queries, seed_contracts_and_drift
from tests.support.harness import Gateway

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).resolve().parents[1] / "_artifacts"


class DevTools:
    """The few DevTools protocol calls the test needs, on one page target."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.next_id = 0

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv(timeout=60))
            if message.get("id") == self.next_id:
                assert "error" not in message, message
                return dict(message.get("result", {}))

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 20) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {expression}")


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[DevTools]:
    if CHROMIUM is None:
        pytest.fail("chromium is not installed (apt-get install -y chromium)")
    process = subprocess.Popen(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-component-update", "--no-first-run",
         f"--user-data-dir={tmp_path / 'profile'}", "--remote-debugging-port=0", "--window-size=1280,1400",
         "about:blank"],
        stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        endpoint = None
        deadline = time.monotonic() + 30
        while endpoint is None and time.monotonic() < deadline:
            line = process.stderr.readline()
            found = re.search(r"DevTools listening on (ws://\S+)", line)
            endpoint = found.group(1) if found else None
        assert endpoint, "chromium did not open its DevTools endpoint"
        with connect(endpoint, max_size=None) as ws:
            tools = DevTools(ws)
            target = tools.call("Target.createTarget", url="about:blank")["targetId"]
            session = tools.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
            yield _Session(ws, session)
    finally:
        process.terminate()
        process.wait(10)


class _Session(DevTools):
    """DevTools calls routed to one page through a flattened session."""

    def __init__(self, ws: ClientConnection, session_id: str) -> None:
        super().__init__(ws)
        self.session_id = session_id

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "sessionId": self.session_id, "method": method,
                                 "params": params}))
        while True:
            message = json.loads(self.ws.recv(timeout=60))
            if message.get("id") == self.next_id:
                assert "error" not in message, message
                return dict(message.get("result", {}))


@pytest.mark.slow
# One browser run is enough: the page reads the same panels whichever engine holds the catalog.
@pytest.mark.parametrize("catalog_url", ["sqlite"], indirect=True)
async def test_an_admin_signs_in_and_sees_charts_of_the_seeded_data(gateway: Gateway, browser: DevTools) -> None:
    await run_queries(gateway)
    seed_contracts_and_drift(gateway.settings.catalog_url)
    with serve(gateway.settings) as address:
        base = f"http://{address}"
        browser.call("Page.enable")
        browser.call("Page.navigate", url=f"{base}/dashboard")
        # No session yet: the browser lands on the sign-in form.
        browser.wait_for("document.location.pathname === '/dashboard/signin' && !!document.getElementById('token')")
        token = json.dumps(gateway.token("ADMIN"))
        browser.evaluate(f"document.getElementById('token').value = {token}; "
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

        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / "dashboard.png"
        height = browser.evaluate("document.documentElement.scrollHeight")
        browser.call("Emulation.setDeviceMetricsOverride", width=1280, height=int(height), deviceScaleFactor=1,
                     mobile=False)
        data = browser.call("Page.captureScreenshot", format="png")["data"]
        shot.write_bytes(base64.b64decode(data))
        assert shot.stat().st_size > 20_000
