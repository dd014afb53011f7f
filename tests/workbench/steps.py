"""What a person does on /workbench, as steps the browser tests share."""

from __future__ import annotations

from tests.support.browser import Page, requests_outside

# The problems under the editor speak of the text as it is (the last edit has been checked).
SETTLED = "!document.getElementById('problems').hasAttribute('aria-busy')"


def sign_in(page: Page, base: str, token: str) -> None:
    page.navigate(f"{base}/workbench")
    page.wait_for("!!document.getElementById('token')")
    page.click("#token")
    page.call("Input.insertText", text=token)
    page.click("#signin button[type=submit]")
    page.wait_for("!!document.querySelector('#who') && !!document.querySelector('li.table')")


def replace_sql(page: Page, sql: str) -> None:
    page.click(".cm-content")
    page.press("a", "Control")
    page.press("Delete")
    page.type(sql)


def editor_text(page: Page) -> str:
    return str(page.evaluate("Array.from(document.querySelectorAll('.cm-line')).map(l => l.textContent).join('\\n')"))


def assert_only_local(page: Page, *origins: str) -> None:
    assert page.requests, "no request was recorded"
    outside = requests_outside(page, *origins)
    assert not outside, outside


def tab_to(page: Page, expression: str, limit: int = 80, *, backwards: bool = False) -> None:
    """Press Tab (Shift-Tab) until ``expression`` (about document.activeElement) holds."""
    for _ in range(limit):
        if page.evaluate(f"(() => {{ const el = document.activeElement; return !!el && ({expression}); }})()"):
            return
        page.press("Tab", *(("Shift",) if backwards else ()))
    raise AssertionError(f"Tab never reached {expression}")
