"""The workbench's browser files: CodeMirror 6 as ES modules, installed from npm at set-up time.

CodeMirror 6 ships each package as one ES module (``dist/index.js``) that imports the others by
bare name, so the browser loads them as they are, with an import map written into the page
(:mod:`gateway.http.workbench_page`): no bundler, no build step. Installed like GraphiQL's (see
:mod:`gateway.http.npm_assets`) into ``gateway/http/static/workbench-vendor/`` (git-ignored).

    python -m gateway.http.workbench_assets install [--dest DIR] [--force]
    python -m gateway.http.workbench_assets check [--dest DIR]
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from gateway.http import npm_assets
from gateway.http.npm_assets import Log, Package

ASSETS_DIR = Path(__file__).resolve().parent / "static" / "workbench-vendor"
STATIC_PREFIX = "/workbench/vendor"  # where the gateway serves ASSETS_DIR


def _module(name: str, version: str, integrity: str, entry: str = "dist/index.js") -> Package:
    served = name.lstrip("@").replace("/", "-")
    return Package(name, version, integrity, {entry: f"{served}.js", "LICENSE": f"LICENSE.{served}.txt"})


# Pinned together: each is the newest release whose dependency ranges the others satisfy.
PACKAGES: tuple[Package, ...] = (
    _module("@codemirror/state", "6.7.6",
            "sha512-kAz+AncRtKuIknedxT1bq4XwXv4UowhbkHU1myPrtVb/jZtImWuV5BXzv5vK6i3kYACsdiZiQKFQQ5Mq7elW8w=="),
    _module("@codemirror/view", "6.43.15",
            "sha512-HHsfpqFeHyXLs983pSRe38Xajs0vFWZQ2BuX0m7Ki8w3jZ5iD8cuR3lBz2/5/X53Dhf32SBHKh6rtSTB6tKeGw=="),
    _module("@codemirror/language", "6.13.1",
            "sha512-zfvU2r3TyylQLMj/te+5CnQ0rSqZi8B1oTCBbQkagcLW4Xc6imab6qN+pEJhsuNOLaJqiRyBXp9UhWA1DhVvDw=="),
    _module("@codemirror/streamparser", "6.0.0",
            "sha512-JTFPF6xrfjt0mnfGPgzcLiMwYmvIyNaoizp8BYzv8FE8KrT6GBGDZ190rtt+O7Wke3gG/MFHyiY9YGNeimof4w=="),
    _module("@codemirror/commands", "6.11.1",
            "sha512-O/4hG3SC1YwcmQ0d2UVNDs+AsaNWd1iHVxbTeEBuqH+6bExAiPK3iS/BvpY6rZGURALv4ZD3sIgcCmRvw3ehBg=="),
    _module("@codemirror/autocomplete", "6.20.4",
            "sha512-yF8RhOf2SXlg00+qtupzLhrglcas61boqaONiNcbPIebHCpJocpqTBA6dyrtUrQO47hqyTdeob/3XnYilT7TaQ=="),
    _module("@codemirror/lint", "6.9.8",
            "sha512-qNvtcE73xUto/D1RvtgSRI4A1Hg8ekxlvtZpjHpdpisLBnhyu82EUEJMEgaxkjuQCA8vqnrylENWKOsEDCOHcw=="),
    _module("@codemirror/search", "6.7.2",
            "sha512-gUYkYhT2+n/+VGZ+8EzE5WFkYZUZYm1VOKDudIsNqh42uRVQJ0a6Yss9sdKT3MeOYfuL1N6AZA57oza0Oyr0LA=="),
    _module("@codemirror/lang-sql", "6.10.0",
            "sha512-6ayPkEd/yRw0XKBx5uAiToSgGECo/GY2NoJIHXIIQh1EVwLuKoU8BP/qK0qH5NLXAbtJRLuT73hx7P9X34iO4w=="),
    _module("@lezer/common", "1.5.5",
            "sha512-Pw7PVCndruF1pb3ebCxpSVpkMHSDjwRCLcTRw+RizUKco5QbWylwq2g4lnG/RYN7yTTQDXE9F77MwtkAyphrjg=="),
    _module("@lezer/highlight", "1.2.5",
            "sha512-O1GMVKgtf5YspFaRzpmqkVgMtIk2HG9uMAbH6wdAIdNh3TVzCsch/+cRi+6l2//UGDKe6NB9BW3cvuR5ezMQ0w=="),
    _module("@lezer/lr", "1.4.12",
            "sha512-On9HU4oMMiHPMkQDgoTnGahjgG5n/MkN38CgG77sMraKLL+3JBbeQNi1FcCXV9QRqwF9/BUXP3caHyJC1fBOTQ=="),
    _module("@marijn/find-cluster-break", "1.0.4",
            "sha512-Wy0V7+SGUjnF9/TkiM1hKVDPj7jKXduPNboMVtHTA8dySMURWqfg/JZ9E2Sq8JgSJmkl7k7Qe9FLeMSrSraWmQ==",
            entry="src/index.js"),
    _module("style-mod", "4.1.4",
            "sha512-XXWIQt633/EpAFx8aZDOTjBzrCaGmhvEQlQo6MVPfa2OzO2cWo+4hV9h+6UkHYlXGfy+ODXKUdP7Pthmcu5ATw==",
            entry="src/style-mod.js"),
    _module("w3c-keyname", "2.2.8",
            "sha512-dpojBhNsCNN7T82Tm7k26A6G9ML3NkhDsnw9n/eoxSRlVBB4CEtIQ/KTCLI2Fwf3ataSXRhYFkQi3SlnFwPvPQ==",
            entry="index.js"),
    _module("crelt", "1.0.7",
            "sha512-aK6BbWfhf4U/wCcLHKPJl/xa6VkVstRaPywWtMKGwuOLc/wZTyQYuoxgvZnNsBvv7Kg3YTBQYYBCggcviQczuA==",
            entry="index.js"),
)

# Bare module name -> the file it is served as; the page's import map is built from this.
MODULES: Mapping[str, str] = {p.name: next(iter(p.files.values())) for p in PACKAGES}

BUNDLE = npm_assets.Bundle(label="workbench", module="gateway.http.workbench_assets", dest=ASSETS_DIR,
                           packages=PACKAGES, page_files=tuple(MODULES.values()))


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
