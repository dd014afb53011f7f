"""GraphiQL's browser files, installed at set-up time so the IDE works without internet.

strawberry's stock page loads React and GraphiQL from a CDN and renders blank offline. We serve
them ourselves instead, but never commit them: ``install`` fetches pinned versions of the npm
packages by name with the machine's own ``npm`` client (whatever registry it is configured
for), checks each tarball against the integrity pinned below, and copies only the files the
page needs into ``gateway/http/static/graphiql/`` (git-ignored) with a ``manifest.json``.

    python -m gateway.http.graphiql_assets install [--dest DIR] [--force]
    python -m gateway.http.graphiql_assets check [--dest DIR]

Exit codes: 0 done or already in place, 1 ``check`` found a problem, 2 npm is missing,
3 npm or the download failed. No PyPI package carries these files in a maintained form (the
one that exists is tied to graphene-django), hence npm.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ASSETS_DIR = Path(__file__).resolve().parent / "static" / "graphiql"
STATIC_PREFIX = "/graphql/static/graphiql"  # where the gateway mounts ASSETS_DIR
MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1


@dataclass(frozen=True, slots=True)
class Package:
    name: str
    version: str
    integrity: str  # the tarball's sha512 as npm publishes it; a mismatch refuses the install
    files: Mapping[str, str]  # path inside the package -> the file name we serve it as


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

Log = Callable[[str], None]


class AssetInstallError(Exception):
    """The install could not be done; ``exit_code`` is what the command line returns."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def read_manifest(dest: Path = ASSETS_DIR) -> dict[str, Any] | None:
    try:
        data = json.loads((dest / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("format") == MANIFEST_FORMAT else None


def asset_versions(dest: Path = ASSETS_DIR) -> dict[str, str] | None:
    """File name -> a short content hash for cache-busting, or None when the page can't load.

    Cheap enough for every page view: one small JSON read and a stat per file, no hashing.
    """
    manifest = read_manifest(dest)
    files = manifest.get("files") if manifest else None
    if not isinstance(files, dict):
        return None
    needed = (*PAGE_SCRIPTS, *PAGE_STYLES)
    try:
        versions = {name: str(files[name]["sha256"])[:12] for name in needed}
    except (KeyError, TypeError):
        return None
    return versions if all((dest / name).is_file() for name in needed) else None


def check(dest: Path = ASSETS_DIR) -> list[str]:
    """Everything wrong with the installed assets; empty when they match the pins exactly."""
    manifest = read_manifest(dest)
    if manifest is None:
        return [f"no GraphiQL assets in {dest} (no readable {MANIFEST})"]
    try:
        installed = {name: info["version"] for name, info in manifest["packages"].items()}
        files = {name: str(info["sha256"]) for name, info in manifest["files"].items()}
    except (KeyError, TypeError, AttributeError):
        return [f"{dest / MANIFEST} is malformed"]
    problems: list[str] = []
    pinned = {p.name: p.version for p in PACKAGES}
    if installed != pinned:
        problems.append(f"installed packages {installed} differ from the pinned {pinned}")
    for package in PACKAGES:
        for served in package.files.values():
            path = dest / served
            if served not in files:
                problems.append(f"{served} is missing from the manifest")
            elif not path.is_file():
                problems.append(f"{path} is missing")
            elif hashlib.sha256(path.read_bytes()).hexdigest() != files[served]:
                problems.append(f"{path} was changed after install")
    return problems


def _npm_pack(npm: str, workdir: Path) -> list[dict[str, object]]:
    specs = [f"{p.name}@{p.version}" for p in PACKAGES]
    env = {**os.environ, "npm_config_update_notifier": "false", "npm_config_fund": "false",
           "npm_config_audit": "false", "npm_config_loglevel": "error"}
    try:
        done = subprocess.run(
            [npm, "pack", *specs, "--json", "--ignore-scripts", "--pack-destination", str(workdir)],
            cwd=workdir, env=env, capture_output=True, text=True, timeout=600, check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise AssetInstallError(f"npm pack could not run: {exc}", 3) from exc
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-8:])
        raise AssetInstallError(
            f"npm pack {' '.join(specs)} failed (exit {done.returncode}):\n{tail}\n"
            "Check that npm can reach its registry (npm ping), then run this again.", 3,
        )
    try:
        packed = json.loads(done.stdout)
    except ValueError as exc:
        raise AssetInstallError(f"npm pack printed something that is not JSON: {done.stdout[:200]!r}", 3) from exc
    return list(packed)


def _sha512_integrity(path: Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


def _extract(tarball: Path, package: Package, into: Path) -> dict[str, dict[str, object]]:
    files: dict[str, dict[str, object]] = {}
    with tarfile.open(tarball, "r:gz") as archive:
        for inner, served in package.files.items():
            # Only named regular members are read, so a hostile archive can't write elsewhere.
            member = archive.getmember(f"package/{inner}")
            handle = archive.extractfile(member) if member.isfile() else None
            if handle is None:
                raise AssetInstallError(f"{package.name}@{package.version} has no file {inner}", 3)
            data = handle.read()
            (into / served).write_bytes(data)
            files[served] = {"package": package.name, "source": inner, "size": len(data),
                             "sha256": hashlib.sha256(data).hexdigest()}
    return files


def install(dest: Path = ASSETS_DIR, *, force: bool = False, npm: str | None = None, log: Log = print) -> bool:
    """Put the pinned assets into ``dest``. Returns False when they were already in place."""
    if not force and not check(dest):
        log(f"GraphiQL assets already installed in {dest} ({_describe()}); nothing to do")
        return False
    npm_path = npm or shutil.which("npm")
    if npm_path is None or shutil.which(npm_path) is None:
        raise AssetInstallError(
            "npm was not found on PATH. GraphiQL's browser files are installed from npm packages: "
            "install Node.js with npm (e.g. `apt-get install npm`), then run "
            "`python -m gateway.http.graphiql_assets install`. Until then /graphql still answers "
            "POST requests and its browser page says how to install the IDE.", 2,
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="spyne-graphiql-") as tmp:
        workdir = Path(tmp)
        log(f"fetching {_describe()} with {npm_path} pack")
        packed = {str(entry.get("name")): entry for entry in _npm_pack(npm_path, workdir)}
        staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}-", dir=dest.parent))
        try:
            files: dict[str, dict[str, object]] = {}
            packages: dict[str, dict[str, str]] = {}
            for package in PACKAGES:
                entry = packed.get(package.name)
                if entry is None or entry.get("version") != package.version:
                    raise AssetInstallError(f"npm did not return {package.name}@{package.version}", 3)
                tarball = workdir / str(entry["filename"])
                if _sha512_integrity(tarball) != package.integrity:
                    raise AssetInstallError(
                        f"{package.name}@{package.version} does not match its pinned integrity; refusing it", 3)
                files.update(_extract(tarball, package, staging))
                packages[package.name] = {"version": package.version, "integrity": package.integrity}
            manifest = {"format": MANIFEST_FORMAT, "packages": packages, "files": files}
            (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
            staging.chmod(0o755)
            _swap_in(staging, dest)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    for name, info in sorted(files.items()):
        log(f"  {name:<32} {int(str(info['size'])):>9,} bytes  from {info['package']}")
    log(f"GraphiQL assets installed in {dest}")
    return True


def _swap_in(staging: Path, dest: Path) -> None:
    # Rename the old directory away first, so a page view sees either the old or the new set.
    old = dest.with_name(f".{dest.name}-old")
    shutil.rmtree(old, ignore_errors=True)
    if dest.exists():
        dest.rename(old)
    staging.rename(dest)
    shutil.rmtree(old, ignore_errors=True)


def _describe() -> str:
    return ", ".join(f"{p.name} {p.version}" for p in PACKAGES)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway.http.graphiql_assets", description=(__doc__ or "").split("\n")[0])
    parser.add_argument("command", choices=("install", "check"))
    parser.add_argument("--dest", type=Path, default=ASSETS_DIR, help="assets directory (default: %(default)s)")
    parser.add_argument("--force", action="store_true", help="install again even when the assets are in place")
    args = parser.parse_args(argv)
    if args.command == "check":
        problems = check(args.dest)
        for problem in problems:
            print(f"problem: {problem}", file=sys.stderr)
        if problems:
            print("fix: python -m gateway.http.graphiql_assets install", file=sys.stderr)
            return 1
        print(f"GraphiQL assets in {args.dest} match the pins ({_describe()})")
        return 0
    try:
        install(args.dest, force=args.force)
    except AssetInstallError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
