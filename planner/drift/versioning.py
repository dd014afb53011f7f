"""Version numbers follow drift: compatible changes bump the minor, breaking ones the major.

``WARNING`` is not breaking, so it bumps the minor too; the promotion gate, not the number,
is where a warning must be acknowledged. The rule applied is returned with the number, so
it can be shown to the person registering the version.
"""

from __future__ import annotations

import re

from planner.drift.model import DriftInputError, DriftSeverity, SchemaDiff

_VERSION = re.compile(r"^(?P<prefix>[vV]?)(?P<major>\d+)(?:\.(?P<minor>\d+))?$")


def parse_version(text: str) -> tuple[str, int, int]:
    """("v", 1, 2) for "v1.2"; a bare major ("v3", "3") has minor 0."""
    m = _VERSION.match(text.strip())
    if m is None:
        raise DriftInputError(f"Version {text!r} is not MAJOR.MINOR (like 1.0 or v2.3).")
    return m["prefix"], int(m["major"]), int(m["minor"] or 0)


def next_version(current: str, severity: DriftSeverity | SchemaDiff) -> tuple[str, str]:
    """The version after ``current`` given the drift, and the rule that chose it.

    >>> next_version("v1.0", DriftSeverity.COMPATIBLE)
    ('v1.1', 'compatible changes bump the minor version: v1.0 → v1.1')
    >>> next_version("1.1", DriftSeverity.BREAKING)
    ('2.0', 'breaking changes bump the major version: 1.1 → 2.0')
    """
    prefix, major, minor = parse_version(current)
    was = f"{prefix}{major}.{minor}"
    if isinstance(severity, SchemaDiff):
        if not severity.changes:
            return was, f"no changes keep the version: {was}"
        severity = severity.severity
    if severity == DriftSeverity.BREAKING:
        now = f"{prefix}{major + 1}.0"
        return now, f"breaking changes bump the major version: {was} → {now}"
    now = f"{prefix}{major}.{minor + 1}"
    kind = "compatible changes" if severity == DriftSeverity.COMPATIBLE else \
        "changes with warnings (not breaking)"
    return now, f"{kind} bump the minor version: {was} → {now}"


def is_new_major(candidate: str, active: str) -> bool:
    """Whether ``candidate`` is a later major than ``active`` (what a breaking promotion needs)."""
    return parse_version(candidate)[1] > parse_version(active)[1]
