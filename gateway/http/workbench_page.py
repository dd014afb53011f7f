"""The HTML shell of /workbench: an import map, the page's configuration, and its regions.

Everything the page shows is drawn by its own scripts from GraphQL answers; this shell only
names where the modules are and how one signs in. Only files served by the gateway run: the
import map is the one inline script, allowed by a per-response nonce (CodeMirror's injected
styles carry it too). After an OIDC sign-in the access token travels in the shell as a JSON
data block (``workbench-handoff``), never in a URL; the page's script takes it out at once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from pathlib import Path

from gateway.http.workbench_assets import BUNDLE, MODULES, STATIC_PREFIX

OWN_PREFIX = "/workbench/static"
GRAPHQL_PATH = "/graphql"


@dataclass(frozen=True)
class SignIn:
    """How a person may sign in, as the page offers it."""

    dev_tokens: bool  # dev tokens verify here (no OIDC issuer configured)
    issuer: str | None = None  # set when the page may send the browser to the provider
    login_path: str = "/workbench/login"
    error: str | None = None  # why the last sign-in through the provider was refused


def security_headers(nonce: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": (
            f"default-src 'none'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'nonce-{nonce}'; "
            "img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'none'; "
            "frame-ancestors 'none'; base-uri 'none'"),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }


def _own_version(own_dir: Path, name: str) -> str:
    try:
        return hashlib.sha256((own_dir / name).read_bytes()).hexdigest()[:12]
    except OSError:
        return "missing"


def import_map(versions: Mapping[str, str], own_dir: Path) -> dict[str, dict[str, str]]:
    imports = {name: f"{STATIC_PREFIX}/{served}?v={versions[served]}" for name, served in MODULES.items()}
    # Our own modules import each other by relative URL; each is versioned by its content here.
    scopes = {f"{OWN_PREFIX}/{p.name}": f"{OWN_PREFIX}/{p.name}?v={_own_version(own_dir, p.name)}"
              for p in sorted(own_dir.glob("*.js"))}
    return {"imports": {**imports, **scopes}}


def _script_json(value: object) -> str:
    # A script element's text is not HTML-decoded: keep it JSON, with no way to close the element.
    return json.dumps(value).replace("<", "\\u003c")


def render_page(nonce: str, versions: Mapping[str, str] | None, *, own_dir: Path, sign_in: SignIn | None = None,
                handoff: str | None = None) -> tuple[str, dict[str, str]]:
    sign_in = sign_in or SignIn(dev_tokens=True)
    config = {"graphqlPath": GRAPHQL_PATH, "nonce": nonce,
              "assetsReady": versions is not None, "installCommand": BUNDLE.install_command,
              "signIn": {"devTokens": sign_in.dev_tokens, "issuer": sign_in.issuer,
                         "loginPath": sign_in.login_path if sign_in.issuer else None,
                         "error": ({"code": "UNAUTHENTICATED", "message": sign_in.error} if sign_in.error else None)}}
    head = [
        '<!doctype html><html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>Spyne workbench</title>", '<link rel="icon" href="data:,">',
        f'<link rel="stylesheet" href="{OWN_PREFIX}/workbench.css?v={_own_version(own_dir, "workbench.css")}">',
    ]
    if versions is not None:
        head.append(f'<script type="importmap" nonce="{escape(nonce)}">{_script_json(import_map(versions, own_dir))}</script>')
    main = f"{OWN_PREFIX}/main.js?v={_own_version(own_dir, 'main.js')}"
    head.append(f'<script type="module" src="{main}"></script>')
    handed = (f'<script type="application/json" id="workbench-handoff">{_script_json({"token": handoff})}</script>'
              if handoff else "")
    body = (
        '</head><body>'
        f'<script type="application/json" id="workbench-config">{_script_json(config)}</script>{handed}'
        '<div id="app" aria-live="polite"><p class="boot">Loading the workbench…</p>'
        '<noscript><p class="boot">The workbench needs JavaScript.</p></noscript></div>'
        '</body></html>')
    return "".join(head) + body, security_headers(nonce)
