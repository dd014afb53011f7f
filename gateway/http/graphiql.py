"""The GraphiQL page, served with local assets so it works on a network without internet.

The gateway wires it in two places: the strawberry view's ``render_graphql_ide`` returns
:func:`render_graphiql_page`, and :func:`graphiql_mount` (or :func:`graphiql_static_app`) serves
the files that ``python -m gateway.http.graphiql_assets install`` put in place. When they are
missing the page says how to install them, instead of rendering blank.

Every request needs ``Authorization: Bearer …``, so the headers editor is open by default and
what users paste there is kept in the browser's local storage.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from starlette.responses import Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from gateway.http.graphiql_assets import ASSETS_DIR, PAGE_SCRIPTS, PAGE_STYLES, STATIC_PREFIX, asset_versions

INSTALL_COMMAND = "python -m gateway.http.graphiql_assets install"

DEFAULT_QUERY = """# Welcome to the Spyne gateway.
#
# Every request needs a token. `make demo` printed one per role
# in the terminal it runs in (VIEWER, ANALYST, ENGINEER, ADMIN);
# or mint one from the repository's directory with
#   .venv/bin/spyne token --email you@example.com --role ANALYST
# (just `spyne token …` once the virtualenv is activated).
# Paste it into the Headers tab below:
#   {"Authorization": "Bearer <token>"}
# then press Shift-Ctrl-R to re-fetch the schema
# (completion and the docs need it). Run with Ctrl-Enter.

query Welcome {
  me {
    email
    role
  }
  systemMode
}
"""

_DEFAULT_HEADERS = '{\n  "Authorization": "Bearer "\n}'

_HEAD = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
  html, body {{ height: 100%; margin: 0; }}
  #graphiql {{ height: 100vh; }}
  .spyne-notice {{ font: 15px/1.5 system-ui, sans-serif; max-width: 46rem; margin: 3rem auto; padding: 0 1rem; color: #222; }}
  .spyne-notice code, .spyne-notice pre {{ background: #f3f3f3; border-radius: 4px; padding: .1rem .3rem; }}
  .spyne-notice pre {{ padding: .8rem; overflow-x: auto; }}
</style>
"""

_BOOT = """<script>
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("spyne-graphiql-config").textContent);
  var mount = document.getElementById("graphiql");
  if (typeof React === "undefined" || typeof ReactDOM === "undefined" || typeof GraphiQL === "undefined") {
    mount.className = "spyne-notice";
    mount.textContent = "GraphiQL's scripts did not load from " + config.staticPrefix +
      ". Install them on the server with: " + config.installCommand;
    return;
  }
  function absolute(url, websocket) {
    var parsed = new URL(url, window.location.href);
    if (websocket) { parsed.protocol = parsed.protocol === "https:" ? "wss:" : "ws:"; }
    return parsed.toString();
  }
  var fetcher = GraphiQL.createFetcher({
    url: absolute(config.endpoint, false),
    subscriptionUrl: absolute(config.subscriptionsEndpoint || config.endpoint, true)
  });
  var plugins = window.GraphiQLPluginExplorer ? [GraphiQLPluginExplorer.explorerPlugin()] : [];
  ReactDOM.createRoot(mount).render(React.createElement(GraphiQL, {
    fetcher: fetcher,
    plugins: plugins,
    defaultQuery: config.defaultQuery,
    defaultHeaders: config.defaultHeaders,
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: true,
    defaultEditorToolsVisibility: "headers"
  }));
})();
</script>
"""


def _json_for_script(value: object) -> str:
    # Inside <script> only "</" and HTML-significant characters can break out; escape them all.
    text = json.dumps(value)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_graphiql_page(
    endpoint: str = "/graphql",
    subscriptions_endpoint: str | None = None,
    *,
    static_prefix: str = STATIC_PREFIX,
    assets_dir: Path = ASSETS_DIR,
    default_headers: Mapping[str, str] | None = None,
    title: str = "Spyne GraphiQL",
) -> str:
    """The HTML of the IDE, or of a page saying how to install it when the assets are missing.

    ``subscriptions_endpoint`` defaults to ``endpoint`` over ws(s)://; both may be relative.
    ``default_headers`` pre-fills the headers editor for a first visit (the demo may pass a
    dev token); after that the browser keeps what the user typed.
    """
    versions = asset_versions(assets_dir)
    if versions is None:
        return render_install_notice(endpoint, title=title)
    prefix = static_prefix.rstrip("/")

    def url(name: str) -> str:
        return html.escape(f"{prefix}/{name}?v={versions[name]}")

    config = {
        "endpoint": endpoint,
        "subscriptionsEndpoint": subscriptions_endpoint,
        "staticPrefix": prefix,
        "installCommand": INSTALL_COMMAND,
        "defaultQuery": DEFAULT_QUERY,
        "defaultHeaders": json.dumps(dict(default_headers), indent=2) if default_headers else _DEFAULT_HEADERS,
    }
    parts = [_HEAD.format(title=html.escape(title))]
    parts += [f'<link rel="stylesheet" href="{url(name)}">\n' for name in PAGE_STYLES]
    parts.append("</head>\n<body>\n")
    parts.append('<div id="graphiql">Loading GraphiQL…</div>\n')
    parts.append(f'<noscript><div class="spyne-notice">GraphiQL needs JavaScript. {_curl_hint(endpoint)}'
                 "</div></noscript>\n")
    parts.append(f'<script type="application/json" id="spyne-graphiql-config">{_json_for_script(config)}</script>\n')
    parts += [f'<script src="{url(name)}"></script>\n' for name in PAGE_SCRIPTS]
    parts.append(_BOOT)
    parts.append("</body>\n</html>\n")
    return "".join(parts)


def _curl_hint(endpoint: str) -> str:
    where = f"http://HOST:PORT{endpoint}" if endpoint.startswith("/") else endpoint
    command = (
        f"curl -s {where} -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' "
        "-d '{\"query\": \"{ me { email role } }\"}'"
    )
    return f"<p>The API itself works without it:</p><pre>{html.escape(command)}</pre>"


def render_install_notice(endpoint: str = "/graphql", *, title: str = "Spyne GraphiQL") -> str:
    """A readable page for a browser when the GraphiQL assets have not been installed."""
    return (
        _HEAD.format(title=html.escape(title))
        + "</head>\n<body>\n<div class=\"spyne-notice\" id=\"graphiql-not-installed\">\n"
        "<h1>GraphiQL is not installed on this server</h1>\n"
        "<p>The in-browser IDE is served from local files so that it works without internet, "
        "and those files are installed at set-up time (they come from npm, so the server needs "
        "<code>npm</code> once; a fresh <code>make demo</code> does it). From the project directory run:</p>\n"
        f"<pre>.venv/bin/{html.escape(INSTALL_COMMAND)}</pre>\n"
        "<p>then reload this page.</p>\n"
        f"{_curl_hint(endpoint)}\n"
        "</div>\n</body>\n</html>\n"
    )


class _AssetFiles(StaticFiles):
    """StaticFiles that answers 404, not 500, while the assets are not installed yet."""

    async def check_config(self) -> None:
        if self.directory is not None and os.path.isdir(self.directory):
            await super().check_config()

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        # The page asks for ?v=<content hash>, so a day of caching can't serve stale files.
        response.headers.setdefault("Cache-Control", "public, max-age=86400")
        return response


def graphiql_static_app(assets_dir: Path = ASSETS_DIR) -> StaticFiles:
    """Serves the installed assets; answers 404 (not a crash) while none are installed."""
    return _AssetFiles(directory=assets_dir, check_dir=False)


def graphiql_mount(path: str = STATIC_PREFIX, assets_dir: Path = ASSETS_DIR) -> Mount:
    return Mount(path, app=graphiql_static_app(assets_dir), name="graphiql-static")
