"""/workbench in a real headless Chromium against a live gateway on 127.0.0.1.

Each test signs in through the page's own form, works only through what a person can do (typing,
clicking, keys), and ends by checking that every request the page made went to the gateway.
Screenshots of the main states land in tests/_artifacts/workbench/ (git-ignored).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time

import pytest

from tests.observability.live import serve
from tests.support.browser import Page
from tests.support.harness import Gateway
from tests.workbench.steps import SETTLED, assert_only_local, editor_text, replace_sql, sign_in, tab_to

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("catalog_url", ["sqlite"], indirect=True)]

CARTESIAN = "SELECT c.name, o.id FROM customers c, orders o"


def test_an_analyst_previews_ticks_the_override_and_reads_the_rows(gateway: Gateway, live: str, page: Page,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    token = gateway.token("ANALYST")
    sign_in(page, live, token)
    assert token not in page.evaluate("location.href")
    assert page.evaluate("document.cookie") == ""
    assert "analyst@example.com · ANALYST" in page.evaluate("document.getElementById('who').textContent")
    page.screenshot("01-signed-in")

    replace_sql(page, CARTESIAN)
    page.press("Enter", "Control")  # Ctrl-Enter previews
    page.wait_for("!!document.querySelector('li.guardrail[data-type=CARTESIAN_PRODUCT]')")
    assert page.evaluate("document.getElementById('execute').disabled") is True
    assert "customers" in page.evaluate("document.querySelector('pre.sql.rewritten').textContent")
    page.click("#execute")  # disabled: nothing runs
    assert page.evaluate("document.getElementById('results-panel').hidden") is True
    # The problems under the editor speak of the query as it is now, not of the one before it.
    page.wait_for(SETTLED)
    assert "CARTESIAN_PRODUCT" in page.evaluate("document.getElementById('problems').textContent")
    assert "UNVERIFIED_JOIN" not in page.evaluate("document.getElementById('problems').textContent")
    page.screenshot("02-guardrail-blocks-execute")

    page.click("#override-CARTESIAN_PRODUCT")
    page.wait_for("document.getElementById('execute').disabled === false")
    page.click("#execute")
    page.wait_for("!!document.querySelector('#results-panel .row-count')")
    rows = int(page.evaluate("document.querySelector('.row-count').dataset.rows"))
    assert rows > 100
    drawn = page.evaluate("document.querySelectorAll('.grid-body .grid-row').length")
    assert 0 < drawn < rows  # virtualised: only the rows in view are in the DOM
    first = page.evaluate("Array.from(document.querySelectorAll('.grid-body .grid-row')[0].children).map(c => c.textContent)")
    assert first[0] == "1" and len(first) == 3
    assert page.evaluate("document.querySelector('.explanation').textContent")
    page.screenshot("03-results")

    page.click("#tab-history")
    page.wait_for("!!document.querySelector('ol.history li')")
    assert CARTESIAN in page.evaluate("document.querySelector('ol.history').textContent")
    assert "OK" in page.evaluate("document.querySelector('ol.history li').textContent")
    page.screenshot("04-history")
    assert not page.console_errors, page.console_errors
    assert_only_local(page, live)
    assert not any(token in url for url in page.requests)
    assert "POST /graphql" in caplog.text and token not in caplog.text  # the token reached no log


def test_an_analyst_never_sees_a_shadow_table_anywhere(gateway: Gateway, live: str, page: Page) -> None:
    sign_in(page, live, gateway.token("ANALYST"))
    names = page.evaluate("Array.from(document.querySelectorAll('li.table')).map(li => li.dataset.table)")
    assert sorted(names) == ["customers", "order_items", "orders", "products"]
    for toggle in names:
        page.click(f"li.table[data-table={toggle}] .table-toggle")
    page.wait_for("document.querySelectorAll('.table-details:not([hidden])').length === 4")
    # Asking for it by name is refused with the API's own code and message, shown as such.
    replace_sql(page, "SELECT * FROM order_events")
    page.click("#preview")
    page.wait_for("!!document.querySelector('#preview-panel .error')")
    assert page.evaluate("document.querySelector('#preview-panel .error').dataset.code") == "TABLE_NOT_FOUND"
    for tab in ("#tab-history", "#tab-catalog"):
        page.click(tab)
        text = page.evaluate("document.body.innerText")
        assert "SHADOW" not in text
        # The name appears only where the analyst typed it and where the refusal quotes it back;
        # the refusal's suggestions name tables the analyst may see, never the SHADOW one.
        assert "order_events" not in (text.replace("SELECT * FROM order_events", "")
                                      .replace("No table named 'order_events'", ""))
    assert page.evaluate("document.getElementById('tab-admin')") is None
    assert "Traceback" not in page.evaluate("document.body.innerText")
    page.screenshot("05-analyst-refused")
    assert_only_local(page, live)


def test_a_stale_preview_says_so_and_offers_to_preview_again(gateway: Gateway, live: str, page: Page) -> None:
    sign_in(page, live, gateway.token("ANALYST"))
    replace_sql(page, "SELECT id, status FROM orders")
    page.press("Enter", "Control")
    page.wait_for("document.getElementById('execute') && !document.getElementById('execute').disabled")
    page.click(".cm-content")
    page.press("End", "Control")
    page.type(" WHERE status = 'paid'")
    page.wait_for("!!document.querySelector('.stale #repreview')")
    assert page.evaluate("document.getElementById('execute').disabled") is True
    page.wait_for(SETTLED)
    page.screenshot("06-stale-preview")
    page.click("#repreview")
    page.wait_for("!document.querySelector('.stale') && document.querySelector('pre.sql.original').textContent.includes('paid')")
    # A correction applied from the panel: a LIMIT, planned again as a new preview.
    page.click("form.correction input[type=number]")
    page.type("5")
    page.press("Enter")
    page.wait_for("document.querySelector('pre.sql.rewritten').textContent.includes('LIMIT 5')")
    assert "LIMIT 5" in editor_text(page)
    page.click("#execute")
    page.wait_for("document.querySelector('.row-count')?.dataset.rows !== undefined")
    assert int(page.evaluate("document.querySelector('.row-count').dataset.rows")) <= 5
    # Pinning the deprecated version from the panel plans again against v1, and says so.
    page.click("#tab-preview")
    page.evaluate("const s = document.querySelector('select[data-pin=orders]'); s.value = '1'; "
                  "s.dispatchEvent(new Event('change')); true")
    page.wait_for("document.querySelector('tr[data-table=orders]')?.textContent.includes('v1')")
    assert "DEPRECATED" in page.evaluate("document.querySelector('tr[data-table=orders]').textContent")
    page.screenshot("06b-pinned-deprecated-version")
    assert_only_local(page, live)


def test_an_admin_sees_the_promote_dry_run_as_a_diff_then_promotes(gateway: Gateway, live: str, page: Page) -> None:
    sign_in(page, live, gateway.token("ADMIN"))
    assert "order_events" in page.evaluate("Array.from(document.querySelectorAll('li.table')).map(li => li.dataset.table)")
    page.click("#tab-admin")
    page.wait_for("!!document.getElementById('admin-table')")
    page.evaluate("const s = document.getElementById('admin-table'); s.value = 'order_events'; "
                  "s.dispatchEvent(new Event('change')); true")
    page.wait_for("!!document.querySelector('button.action-promote[data-version=\"1\"]')")
    tab_to(page, "el.classList.contains('action-promote') && el.dataset.version === '1'")
    page.press("Enter")  # from the keyboard: the dialog opens, and its Confirm has the focus once ready
    page.wait_for("!!document.querySelector('dialog.confirm #dry-run') || !!document.querySelector('dialog.confirm .error')")
    dialog = page.evaluate("document.querySelector('dialog.confirm').innerText")
    assert "Dry run" in dialog and "SHADOW → ACTIVE" in dialog, dialog
    assert page.evaluate("document.querySelectorAll('dialog.confirm tr.diff-added').length") > 0
    assert "Unresolved drift" in dialog
    page.screenshot("07-admin-promote-dry-run")
    # The dry run changed nothing; confirming does.
    state = json.dumps("SHADOW")
    assert page.evaluate(f"document.querySelector('li.admin-version[data-version=\"1\"]').dataset.state === {state}")
    page.wait_for("document.activeElement?.id === 'confirm-action'")
    page.press("Enter")
    page.wait_for("document.querySelector('li.admin-version[data-version=\"1\"]')?.dataset.state === 'ACTIVE'")
    assert page.evaluate("document.getElementById('admin-outcome').textContent")
    page.screenshot("08-admin-promoted")
    # Deprecating asks first too; cancelling (Escape) changes nothing, confirming does.
    page.click("button.action-deprecate[data-version=\"1\"]")
    page.wait_for("!!document.querySelector('dialog.confirm #deprecate-reason')")
    page.press("Escape")
    page.wait_for("!document.querySelector('dialog.confirm')")
    assert page.evaluate("document.querySelector('li.admin-version[data-version=\"1\"]').dataset.state") == "ACTIVE"
    # Rolling the promotion back returns the version to SHADOW.
    page.click("button.action-rollback")
    page.wait_for("!!document.querySelector('dialog.confirm[data-action=rollback] #confirm-action:not([disabled])')")
    page.click("#confirm-action")
    page.wait_for("!document.querySelector('dialog.confirm') || !!document.querySelector('dialog.confirm .error')")
    assert page.evaluate("document.querySelector('dialog.confirm')?.innerText ?? ''") == ""
    page.wait_for("document.querySelector('li.admin-version[data-version=\"1\"]')?.dataset.state === 'SHADOW'")
    assert_only_local(page, live)


@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)])
def test_the_layout_holds_at_common_screen_sizes(gateway: Gateway, live: str, page: Page, size: tuple[int, int]) -> None:
    width, height = size
    page.resize(width, height)
    sign_in(page, live, gateway.token("ANALYST"))
    replace_sql(page, "SELECT c.name, count(*) AS n FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.name")
    page.press("Enter", "Control")
    page.wait_for("document.getElementById('execute')?.disabled === false")
    page.press("Enter", "Control", "Shift")  # Ctrl-Shift-Enter executes from the keyboard
    page.wait_for("!!document.querySelector('.row-count')")
    page.wait_for(SETTLED)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.evaluate("document.documentElement.scrollHeight") <= height
    # The results panel fits its rows' grid, summary and buttons without scrolling itself.
    assert page.evaluate("(() => { const p = document.getElementById('results-panel'); "
                         "return p.scrollHeight <= p.clientHeight + 1 && p.scrollWidth <= p.clientWidth + 1; })()")
    summary = page.evaluate("Array.from(document.querySelectorAll('.result-summary > *'))"
                            ".map(e => e.getBoundingClientRect().height)")
    assert max(summary) < 40, summary  # nothing in the summary line wraps onto a second line
    for selector in ("#editor", "#results-panel", "aside.side", "#preview"):
        box = page.evaluate(f"(() => {{ const r = document.querySelector('{selector}').getBoundingClientRect(); "
                            "return [r.left, r.top, r.right, r.bottom]; })()")
        assert box[0] >= 0 and box[1] >= 0 and box[2] <= width and box[3] <= height, (selector, box)
        assert box[2] - box[0] > 40 and box[3] - box[1] > 20, (selector, box)
    page.screenshot(f"09-layout-{width}x{height}", width, height)
    assert_only_local(page, live)


def test_the_whole_flow_works_from_the_keyboard(gateway: Gateway, live: str, page: Page) -> None:
    page.navigate(f"{live}/workbench")
    page.wait_for("document.activeElement?.id === 'token'")  # the token box has the focus
    page.call("Input.insertText", text=gateway.token("ANALYST"))
    page.press("Tab")
    page.press("Enter")  # the Sign in button
    page.wait_for("!!document.querySelector('li.table') && document.activeElement?.classList.contains('cm-content')")
    page.press("a", "Control")
    page.type(CARTESIAN)
    page.press("Enter", "Control")
    page.wait_for("!!document.getElementById('override-CARTESIAN_PRODUCT')")
    page.press("Escape")  # CodeMirror: Escape, then Tab leaves the editor instead of indenting
    tab_to(page, "el.id === 'override-CARTESIAN_PRODUCT'")
    page.press(" ")
    page.wait_for("document.getElementById('execute').disabled === false")
    page.press("Tab", "Shift")
    tab_to(page, "el.id === 'execute'")
    page.press("Enter")
    page.wait_for("!!document.querySelector('.row-count')")
    tab_to(page, "el.classList.contains('grid-viewport')")
    page.press("End")
    page.wait_for("document.querySelector('.grid-viewport').scrollTop > 0")
    # Download all, from the keyboard too.
    tab_to(page, "el.dataset.accept === 'text/csv'", backwards=True)
    page.press("Enter")
    page.wait_for("document.querySelector('.download-status')?.dataset.file?.endsWith('.csv')")
    # Sign out, and the sign-in page has the focus again.
    tab_to(page, "el.id === 'signout'", backwards=True)
    page.press("Enter")
    page.wait_for("document.activeElement?.id === 'token'")
    assert_only_local(page, live)


def test_completion_offers_a_column_of_the_table_in_scope(gateway: Gateway, live: str, page: Page) -> None:
    sign_in(page, live, gateway.token("ANALYST"))
    replace_sql(page, "SELECT c.id FROM customers c WHERE c.cou")
    page.wait_for("Array.from(document.querySelectorAll('.cm-tooltip-autocomplete li')).some(li => li.textContent.includes('country'))")
    page.screenshot("10-completion")
    page.press("Enter")
    page.wait_for("document.querySelector('.cm-content').textContent.includes('c.country')")
    assert editor_text(page) == "SELECT c.id FROM customers c WHERE c.country"
    assert_only_local(page, live)


async def test_a_typo_is_underlined_where_it_is_and_its_quick_fix_applies(gateway: Gateway, live: str, page: Page) -> None:
    fields = await gateway.ok('{ __type(name: "QueryValidation") { fields { name } } }')
    if "diagnostics" not in {f["name"] for f in fields["__type"]["fields"]}:
        pytest.skip("validateQuery has no diagnostics on this gateway: the editor shows errors at a point only")
    sign_in(page, live, gateway.token("ANALYST"))
    replace_sql(page, "SELECT nmae, country\nFROM customers")
    page.wait_for("!!document.querySelector('.problem[data-code=COLUMN_NOT_FOUND]')")
    assert page.evaluate("document.querySelector('.problem[data-code=COLUMN_NOT_FOUND] .where').textContent") == "1:8"
    marked = page.wait_for("Array.from(document.querySelectorAll('.cm-lintRange-error')).map(m => m.textContent).join('|')")
    assert marked == "nmae", marked
    page.screenshot("11-typo-diagnostic")
    # The quick fix from the keyboard: Escape, then Tab leaves the editor for the problems list.
    page.press("Escape")
    tab_to(page, "el.classList.contains('quick-fix')")
    page.press("Enter")
    page.wait_for("!document.querySelector('.problem[data-code=COLUMN_NOT_FOUND]')")
    assert editor_text(page) == "SELECT name, country\nFROM customers"
    assert page.evaluate("document.querySelectorAll('.cm-lintRange-error').length") == 0
    # Format asks formatQuery and puts its answer in the editor.
    page.click("#format")
    page.wait_for("document.querySelectorAll('.cm-line').length > 2")
    assert editor_text(page).split() == ["SELECT", "name,", "country", "FROM", "customers"]
    assert_only_local(page, live)


def test_a_token_that_stops_verifying_returns_the_page_to_sign_in(gateway: Gateway, page: Page,
                                                                  workbench_assets_installed: None) -> None:
    # No clock leeway, so the token's own expiry is the moment it is refused (an OIDC access
    # token expiring while the page is open).
    with serve(dataclasses.replace(gateway.settings, token_leeway_seconds=0)) as address:
        base = f"http://{address}"
        ttl = 8
        expires = time.time() + ttl
        sign_in(page, base, gateway.token("ANALYST", ttl=ttl))
        time.sleep(max(0.0, expires - time.time()) + 1.5)
        page.click("#preview")
        page.wait_for("!!document.querySelector('main.signin .error')")
        assert page.evaluate("document.querySelector('main.signin .error').dataset.code") == "UNAUTHENTICATED"
        assert page.evaluate("sessionStorage.getItem('spyne.workbench.token')") is None
        assert page.evaluate("document.activeElement?.id") == "token"
        page.screenshot("16-token-expired")
        assert_only_local(page, base)
