"""Browser files installed from the npm registry at set-up time, so the pages work without internet.

The gateway serves two browser pages with third-party code: GraphiQL (``/graphql``) and the
workbench (``/workbench``). Neither commits those files nor loads them from a CDN: ``install``
fetches pinned versions of npm packages by name with the machine's own ``npm`` client
(whatever registry it is configured for), checks each tarball against the integrity pinned in
the page's :class:`Bundle`, and copies only the files the page needs into the bundle's
git-ignored directory with a ``manifest.json``. ``check`` re-hashes them.

Exit codes of the command lines built on :func:`main`: 0 done or already in place, 1 ``check``
found a problem, 2 npm is missing, 3 npm or the download failed.
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

MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1

Log = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Package:
    name: str
    version: str
    integrity: str  # the tarball's sha512 as npm publishes it; a mismatch refuses the install
    files: Mapping[str, str]  # path inside the package -> the file name we serve it as


@dataclass(frozen=True, slots=True)
class Bundle:
    """One page's pinned packages and where they are installed."""

    label: str  # "GraphiQL", "workbench": what messages call these assets
    module: str  # the python -m module whose install command puts them in place
    dest: Path
    packages: tuple[Package, ...]
    page_files: tuple[str, ...]  # what the page loads: all must be present for it to render

    @property
    def install_command(self) -> str:
        return f"python -m {self.module} install"

    def describe(self) -> str:
        return ", ".join(f"{p.name} {p.version}" for p in self.packages)


class AssetInstallError(Exception):
    """The install could not be done; ``exit_code`` is what the command line returns."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def read_manifest(dest: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((dest / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("format") == MANIFEST_FORMAT else None


def asset_versions(bundle: Bundle, dest: Path | None = None) -> dict[str, str] | None:
    """File name -> a short content hash for cache-busting, or None when the page can't load.

    Cheap enough for every page view: one small JSON read and a stat per file, no hashing.
    """
    where = dest or bundle.dest
    manifest = read_manifest(where)
    files = manifest.get("files") if manifest else None
    if not isinstance(files, dict):
        return None
    try:
        versions = {name: str(files[name]["sha256"])[:12] for name in bundle.page_files}
    except (KeyError, TypeError):
        return None
    return versions if all((where / name).is_file() for name in bundle.page_files) else None


def check(bundle: Bundle, dest: Path | None = None) -> list[str]:
    """Everything wrong with the installed assets; empty when they match the pins exactly."""
    where = dest or bundle.dest
    manifest = read_manifest(where)
    if manifest is None:
        return [f"no {bundle.label} assets in {where} (no readable {MANIFEST})"]
    try:
        installed = {name: info["version"] for name, info in manifest["packages"].items()}
        files = {name: str(info["sha256"]) for name, info in manifest["files"].items()}
    except (KeyError, TypeError, AttributeError):
        return [f"{where / MANIFEST} is malformed"]
    problems: list[str] = []
    pinned = {p.name: p.version for p in bundle.packages}
    if installed != pinned:
        problems.append(f"installed packages {installed} differ from the pinned {pinned}")
    for package in bundle.packages:
        for served in package.files.values():
            path = where / served
            if served not in files:
                problems.append(f"{served} is missing from the manifest")
            elif not path.is_file():
                problems.append(f"{path} is missing")
            elif hashlib.sha256(path.read_bytes()).hexdigest() != files[served]:
                problems.append(f"{path} was changed after install")
    return problems


def _npm_pack(npm: str, packages: Sequence[Package], workdir: Path) -> list[dict[str, object]]:
    specs = [f"{p.name}@{p.version}" for p in packages]
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


def install(bundle: Bundle, dest: Path | None = None, *, force: bool = False, npm: str | None = None,
            log: Log = print) -> bool:
    """Put the pinned assets into ``dest``. Returns False when they were already in place."""
    where = dest or bundle.dest
    if not force and not check(bundle, where):
        log(f"{bundle.label} assets already installed in {where} ({bundle.describe()}); nothing to do")
        return False
    npm_path = npm or shutil.which("npm")
    if npm_path is None or shutil.which(npm_path) is None:
        raise AssetInstallError(
            f"npm was not found on PATH. The {bundle.label} browser files are installed from npm packages: "
            "install Node.js with npm (e.g. `apt-get install npm`), then run "
            f"`{bundle.install_command}`. Until then the page says how to install them.", 2,
        )
    where.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="spyne-npm-assets-") as tmp:
        workdir = Path(tmp)
        log(f"fetching {bundle.describe()} with {npm_path} pack")
        packed = {str(entry.get("name")): entry for entry in _npm_pack(npm_path, bundle.packages, workdir)}
        staging = Path(tempfile.mkdtemp(prefix=f".{where.name}-", dir=where.parent))
        try:
            files: dict[str, dict[str, object]] = {}
            packages: dict[str, dict[str, str]] = {}
            for package in bundle.packages:
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
            _swap_in(staging, where)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    for name, info in sorted(files.items()):
        log(f"  {name:<32} {int(str(info['size'])):>9,} bytes  from {info['package']}")
    log(f"{bundle.label} assets installed in {where}")
    return True


def _swap_in(staging: Path, dest: Path) -> None:
    # Rename the old directory away first, so a page view sees either the old or the new set.
    old = dest.with_name(f".{dest.name}-old")
    shutil.rmtree(old, ignore_errors=True)
    if dest.exists():
        dest.rename(old)
    staging.rename(dest)
    shutil.rmtree(old, ignore_errors=True)


def main(bundle: Bundle, argv: Sequence[str] | None = None, description: str = "") -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {bundle.module}", description=description)
    parser.add_argument("command", choices=("install", "check"))
    parser.add_argument("--dest", type=Path, default=bundle.dest, help="assets directory (default: %(default)s)")
    parser.add_argument("--force", action="store_true", help="install again even when the assets are in place")
    args = parser.parse_args(argv)
    if args.command == "check":
        problems = check(bundle, args.dest)
        for problem in problems:
            print(f"problem: {problem}", file=sys.stderr)
        if problems:
            print(f"fix: {bundle.install_command}", file=sys.stderr)
            return 1
        print(f"{bundle.label} assets in {args.dest} match the pins ({bundle.describe()})")
        return 0
    try:
        install(bundle, args.dest, force=args.force)
    except AssetInstallError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0
