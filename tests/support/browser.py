"""A real headless Chromium driven over the DevTools protocol: the one driver of the browser tests.

Nothing is downloaded at test time: Debian's ``chromium`` is started with networking features
off, and spoken to over its DevTools WebSocket (the ``websockets`` package the gateway already
depends on). Every request the page makes is recorded from ``Network.requestWillBeSent`` (the
hops of a redirect too), so a test can prove that nothing left 127.0.0.1. Downloads land in a
folder the test names (``Browser.setDownloadBehavior``), so a test reads the file that arrived.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from websockets.sync.client import ClientConnection, connect

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).resolve().parents[1] / "_artifacts"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-default-apps",
         "--disable-extensions", "--metrics-recording-only", "--no-default-browser-check")

# Windows virtual key codes of the keys the tests press.
_KEYS = {"Enter": 13, "Escape": 27, "Tab": 9, "Backspace": 8, "Delete": 46, "ArrowDown": 40, "ArrowUp": 38,
         "ArrowLeft": 37, "ArrowRight": 39, "Home": 36, "End": 35, " ": 32, "F8": 119}
_MODIFIERS = {"Alt": 1, "Control": 2, "Meta": 4, "Shift": 8}


class ProtocolError(AssertionError):
    """DevTools answered a call with an error (e.g. an evaluation while the page navigates)."""


class Page:
    """DevTools calls routed to one page target; events are kept for the test to read."""

    def __init__(self, ws: ClientConnection, session_id: str, artifacts: Path) -> None:
        self.ws = ws
        self.session_id = session_id
        self.artifacts = artifacts
        self.next_id = 0
        self.requests: list[str] = []
        self.console_errors: list[str] = []

    def _event(self, message: dict[str, Any]) -> None:
        method = message.get("method")
        params = message.get("params", {})
        if method == "Network.requestWillBeSent":
            self.requests.append(str(params["request"]["url"]))
        elif method == "Runtime.exceptionThrown":
            self.console_errors.append(json.dumps(params.get("exceptionDetails", {}))[:500])
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            self.console_errors.append(str(params["entry"].get("text")))

    def _send(self, method: str, params: dict[str, Any], *, browser: bool = False) -> dict[str, Any]:
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params}
        if not browser:
            message["sessionId"] = self.session_id
        self.ws.send(json.dumps(message))
        while True:
            answer = json.loads(self.ws.recv(timeout=60))
            if answer.get("id") == self.next_id:
                if "error" in answer:
                    raise ProtocolError(answer)
                return dict(answer.get("result", {}))
            if "method" in answer and answer.get("sessionId") == self.session_id:
                self._event(answer)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        return self._send(method, params)

    def browser_call(self, method: str, **params: Any) -> dict[str, Any]:
        """A call to the browser itself rather than the page (``Browser.*``, ``Storage.*``)."""
        return self._send(method, params, browser=True)

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 20) -> Any:
        """Polls ``expression`` until it is truthy; a page navigating meanwhile is "not yet"."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                value = self.evaluate(expression)
            except AssertionError:  # the document went away under the evaluation (a navigation)
                value = None
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {expression}")

    def navigate(self, url: str) -> None:
        self.call("Page.navigate", url=url)

    def click(self, selector: str) -> None:
        """A real mouse click in the middle of the element (so disabled buttons stay inert)."""
        box = self.evaluate(f"""(() => {{ const el = document.querySelector({json.dumps(selector)});
            if (!el) return null; el.scrollIntoView({{block: 'center'}}); const r = el.getBoundingClientRect();
            return [r.x + r.width / 2, r.y + r.height / 2]; }})()""")
        assert box, f"nothing matches {selector}"
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left", clickCount=1)

    def type(self, text: str) -> None:
        """Text as typed: one insertText per character, as an input method would."""
        for char in text:
            if char == "\n":
                self.press("Enter")
            else:
                self.call("Input.insertText", text=char)

    def press(self, key: str, *modifiers: str) -> None:
        mask = sum(_MODIFIERS[m] for m in modifiers)
        code = _KEYS.get(key, ord(key.upper()) if len(key) == 1 else 0)
        text = "\r" if key == "Enter" and not modifiers else " " if key == " " and not modifiers else ""
        common = {"key": key, "windowsVirtualKeyCode": code, "modifiers": mask}
        self.call("Input.dispatchKeyEvent", type="keyDown", text=text, **common)
        self.call("Input.dispatchKeyEvent", type="keyUp", **common)

    def screenshot(self, name: str, width: int = 1280, height: int = 800, *, full_page: bool = False) -> Path:
        """A PNG in tests/_artifacts/<folder>/ (git-ignored), for a person to look at."""
        if full_page:
            height = int(self.evaluate("document.documentElement.scrollHeight"))
            self.resize(width, height)
        self.artifacts.mkdir(parents=True, exist_ok=True)
        data = self.call("Page.captureScreenshot", format="png",
                         clip={"x": 0, "y": 0, "width": width, "height": height, "scale": 1})["data"]
        path = self.artifacts / f"{name}.png"
        path.write_bytes(base64.b64decode(data))
        return path

    def resize(self, width: int, height: int) -> None:
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)

    def save_downloads_to(self, folder: Path) -> None:
        """Files the page downloads (a link with ``download``, an attachment) land in ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        self.browser_call("Browser.setDownloadBehavior", behavior="allow", downloadPath=str(folder))

    def downloaded(self, folder: Path, pattern: str, timeout: float = 30) -> Path:
        """The one finished file in ``folder`` matching ``pattern`` (Chromium writes ``.crdownload`` first)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = [p for p in folder.glob(pattern) if not p.name.endswith(".crdownload")]
            if done and not list(folder.glob("*.crdownload")):
                assert len(done) == 1, done
                return done[0]
            time.sleep(0.1)
        raise AssertionError(f"no download matching {pattern} arrived in {folder}: {list(folder.iterdir())}")

    def cookies(self) -> list[dict[str, Any]]:
        """Every cookie the browser holds, HttpOnly ones included (scripts cannot see those)."""
        return list(self.browser_call("Storage.getCookies").get("cookies", []))


def requests_outside(page: Page, *origins: str) -> list[str]:
    """The URLs the page asked for that went to none of ``origins`` (each on 127.0.0.1)."""
    for origin in origins:
        assert urlsplit(origin).hostname == "127.0.0.1", origin
    local = tuple(f"{origin.rstrip('/')}/" for origin in origins)
    return [url for url in page.requests
            if not (url.startswith(local) or url.startswith(("data:", "blob:")) or url == "about:blank")]


@contextmanager
def chromium(profile: Path, width: int = 1280, height: int = 800, *, artifacts: str = "") -> Iterator[Page]:
    """A fresh headless Chromium with one page; its screenshots go to tests/_artifacts/<artifacts>/."""
    if CHROMIUM is None:
        raise AssertionError("chromium is not installed (apt-get install -y chromium)")
    process = subprocess.Popen(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0",
         f"--window-size={width},{height}", "about:blank"],
        stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        endpoint = None
        deadline = time.monotonic() + 30
        while endpoint is None and time.monotonic() < deadline:
            found = re.search(r"DevTools listening on (ws://\S+)", process.stderr.readline())
            endpoint = found.group(1) if found else None
        assert endpoint, "chromium did not open its DevTools endpoint"
        with connect(endpoint, max_size=None) as ws:
            target = _browser_call(ws, "Target.createTarget", url="about:blank")["targetId"]
            session = _browser_call(ws, "Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
            page = Page(ws, session, ARTIFACTS / artifacts)
            for domain in ("Page.enable", "Network.enable", "Runtime.enable", "Log.enable"):
                page.call(domain)
            page.resize(width, height)
            yield page
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


def _browser_call(ws: ClientConnection, method: str, **params: Any) -> dict[str, Any]:
    ws.send(json.dumps({"id": 0, "method": method, "params": params}))
    while True:
        message = json.loads(ws.recv(timeout=60))
        if message.get("id") == 0:
            assert "error" not in message, message
            return dict(message.get("result", {}))
