"""GraphiQL's browser files, installed at set-up time so the IDE works without internet.

strawberry's stock page loads React and GraphiQL from a CDN and renders blank offline. We serve
them ourselves instead (see :mod:`gateway.http.npm_assets` for how they are fetched, checked and
kept out of git), into ``gateway/http/static/graphiql/``.

    python -m gateway.http.graphiql_assets install [--dest DIR] [--force]
    python -m gateway.http.graphiql_assets check [--dest DIR]

No PyPI package carries these files in a maintained form (the one that exists is tied to
graphene-django), hence npm.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from gateway.http import npm_assets
from gateway.http.npm_assets import MANIFEST, AssetInstallError, Log, Package

__all__ = ["ASSETS_DIR", "BUNDLE", "MANIFEST", "PACKAGES", "PAGE_SCRIPTS", "PAGE_STYLES", "STATIC_PREFIX",
           "AssetInstallError", "asset_versions", "check", "install", "main"]

ASSETS_DIR = Path(__file__).resolve().parent / "static" / "graphiql"
STATIC_PREFIX = "/graphql/static/graphiql"  # where the gateway mounts ASSETS_DIR

# GraphiQL 3.8 is the last line that still ships a UMD bundle; React 18 the last with UMD builds.
# These are the versions strawberry's own page uses, so the page behaves as users know it.
PACKAGES: tuple[Package, ...] = (
    Package(
        "react", "18.3.1",
        "sha512-wS+hAgJShR0KhEvPJArfuPVN1+Hz1t0Y6n5jLrGQbkb4urgPE/0Rve+1kMB1v/oWgHgm4WIcV+i7F2pTVj+2iQ==",
        {"umd/react.production.min.js": "react.production.min.js", "LICENSE": "LICENSE.react.txt"},
    ),
    Package(
        "react-dom", "18.3.1",
        "sha512-5m4nQKp+rZRb09LNH59GM4BxTh9251/ylbKIbpe7TpGxfJ+9kv6BLkLBXIjjspbgbnIBNqlI23tRnTWT0snUIw==",
        {"umd/react-dom.production.min.js": "react-dom.production.min.js", "LICENSE": "LICENSE.react-dom.txt"},
    ),
    Package(
        "graphiql", "3.8.3",
        "sha512-cuPDYtXVKV86Pu5PHBX642Odi/uVEE2y1Jxq5rGO/Qy1G2lRp7ZZ7a/T30RzxhuLSWo9zUbzq0P3U49//H0Ugw==",
        {"graphiql.min.js": "graphiql.min.js", "graphiql.min.css": "graphiql.min.css",
         "LICENSE": "LICENSE.graphiql.txt"},
    ),
    Package(
        "@graphiql/plugin-explorer", "1.0.2",
        "sha512-9j+kg2UjtLZD5EBmGjeWHkoVVxtbShYg2DzbUVebibnZYZM/iMBEF4vaccXJIAm5KaomIPLx0aoNs4LbODyc3Q==",
        {"dist/index.umd.js": "plugin-explorer.umd.js", "dist/style.css": "plugin-explorer.css"},
    ),
)

# What the page loads, in load order: React first, GraphiQL next, then its plugin.
PAGE_SCRIPTS = ("react.production.min.js", "react-dom.production.min.js", "graphiql.min.js",
                "plugin-explorer.umd.js")
PAGE_STYLES = ("graphiql.min.css", "plugin-explorer.css")

BUNDLE = npm_assets.Bundle(label="GraphiQL", module="gateway.http.graphiql_assets", dest=ASSETS_DIR,
                           packages=PACKAGES, page_files=(*PAGE_SCRIPTS, *PAGE_STYLES))


def asset_versions(dest: Path = ASSETS_DIR) -> dict[str, str] | None:
    return npm_assets.asset_versions(BUNDLE, dest)


def check(dest: Path = ASSETS_DIR) -> list[str]:
    return npm_assets.check(BUNDLE, dest)


def install(dest: Path = ASSETS_DIR, *, force: bool = False, npm: str | None = None, log: Log = print) -> bool:
    return npm_assets.install(BUNDLE, dest, force=force, npm=npm, log=log)


def main(argv: Sequence[str] | None = None) -> int:
    return npm_assets.main(BUNDLE, argv, (__doc__ or "").split("\n")[0])


if __name__ == "__main__":
    sys.exit(main())
