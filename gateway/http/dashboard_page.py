"""The HTML of /dashboard and its sign-in page, and the panels as JSON. Everything is escaped."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from html import escape
from typing import Any

from gateway.http.dashboard_charts import render_panel
from gateway.services.dashboard import Dashboard

# Only our own files run or style the page; nothing is fetched from elsewhere.
SECURITY_HEADERS = {
    "Content-Security-Policy": ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

_HEAD = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="/dashboard/static/dashboard.css">
<script src="/dashboard/static/dashboard.js" defer></script>
</head>
<body>
"""


def security_headers(form_targets: tuple[str, ...] = ()) -> dict[str, str]:
    """SECURITY_HEADERS, letting forms also lead to ``form_targets`` (the OIDC sign-in redirects
    the browser to the identity provider, and browsers apply form-action to that redirect)."""
    if not form_targets:
        return dict(SECURITY_HEADERS)
    csp = SECURITY_HEADERS["Content-Security-Policy"].replace(
        "form-action 'self'", "form-action 'self' " + " ".join(form_targets))
    return {**SECURITY_HEADERS, "Content-Security-Policy": csp}


def continue_to(path: str) -> str:
    """A page that moves on to ``path`` by itself: after the identity provider's cross-site
    redirect, a navigation started by our own page carries the SameSite=Strict session cookie
    (a plain 303 would still count as cross-site and arrive without it)."""
    target = escape(path, quote=True)
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="refresh" content="0;url={target}"><title>Signed in</title></head>'
            f'<body><p>Signed in. <a href="{target}">Continue to the dashboard</a>.</p></body></html>')


def _window_links(current: int) -> str:
    return " ".join(
        f'<a href="/dashboard?days={d}"' + (' aria-current="page"' if d == current else "") + f">{d}d</a>"
        for d in (1, 7, 30))


def dashboard(snapshot: Dashboard, email: str, csrf: str | None) -> str:
    signout = (f'<form method="post" action="/dashboard/signout" class="inline">'
               f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
               f'<button type="submit">Sign out</button></form>') if csrf else ""
    panels = "".join(render_panel(p) for p in snapshot.panels)
    recent = "".join(
        f"<tr><td>{escape(_when(at))}</td><td>{escape(actor)}</td><td>{escape(action)}</td>"
        f"<td>{escape(entity)}</td></tr>" for at, actor, action, entity in snapshot.recent)
    return (
        _HEAD.format(title="Spyne — operations dashboard")
        + f'<header><h1>Spyne operations</h1><span class="who">{escape(email)}</span>{signout}</header>'
        + f'<nav>Window: {_window_links(snapshot.window_days)} · generated '
        + f'<time id="generated" datetime="{snapshot.generated_at.isoformat()}">{escape(_when(snapshot.generated_at))}</time></nav>'
        + f'<main id="panels" data-refresh-seconds="60">{panels}'
        + '<section class="panel wide" id="panel-audit"><h2>Recent audit events</h2>'
        + (f"<table><thead><tr><th>when</th><th>who</th><th>action</th><th>entity</th></tr></thead>"
           f"<tbody>{recent}</tbody></table>" if recent else '<p class="empty">no data yet</p>')
        + "</section></main></body></html>"
    )


def signin(csrf: str, *, dev: bool, oidc: str | None, message: str | None) -> str:
    parts = [_HEAD.format(title="Spyne — sign in"), '<main class="signin"><h1>Spyne operations</h1>']
    if message:
        parts.append(f'<p class="error" role="alert">{escape(message)}</p>')
    if oidc:
        parts.append(f'<form method="post" action="/dashboard/login"><input type="hidden" name="csrf" '
                     f'value="{escape(csrf)}"><button type="submit">Sign in with {escape(oidc)}</button></form>')
    if dev:
        parts.append(
            '<form method="post" action="/dashboard/signin" id="dev-signin">'
            f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
            '<label for="token">Dev token of an ADMIN (<code>spyne token --email you@example.com --role ADMIN</code>)</label>'
            '<textarea id="token" name="token" rows="4" autocomplete="off" spellcheck="false" required></textarea>'
            '<button type="submit">Sign in</button></form>')
    if not dev and not oidc:
        parts.append("<p>No sign-in method is configured: set SPYNE_OIDC_CLIENT_ID, or send a bearer header.</p>")
    parts.append("</main></body></html>")
    return "".join(parts)


def refusal(message: str) -> str:
    return (_HEAD.format(title="Spyne — not allowed")
            + f'<main class="signin"><h1>Spyne operations</h1><p class="error" role="alert">{escape(message)}</p>'
            + '<p><a href="/dashboard/signin">Sign in as someone else</a></p></main></body></html>')


def as_json(snapshot: Dashboard) -> str:
    def default(value: Any) -> Any:
        return value.isoformat() if isinstance(value, datetime) else str(value)

    return json.dumps(dataclasses.asdict(snapshot), default=default)


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC") if at.tzinfo else at.strftime("%Y-%m-%d %H:%M")
