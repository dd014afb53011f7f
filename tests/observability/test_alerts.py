"""The alert rules and the example Prometheus config, checked and unit-tested by promtool."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.observability.test_metrics import promtool

REPO = Path(__file__).resolve().parents[2]
ALERTS = REPO / "deploy" / "prometheus" / "alerts.yml"
ALERT_TESTS = Path(__file__).resolve().parent / "alerts_test.yml"
PROMETHEUS_CONFIG = REPO / "deploy" / "prometheus" / "prometheus.yml"
REQUIRED_ALERTS = ("SpyneIngestionLagOverSLA", "SpyneBreakingDrift", "SpyneJoinValidationFailures",
                   "SpyneQueryLatencyP95High", "SpyneAuthFailureBurst")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([promtool(), *args], capture_output=True, text=True, timeout=120, check=False,
                          cwd=REPO)


def test_alert_rules_pass_promtool_check_rules() -> None:
    done = _run("check", "rules", str(ALERTS))
    assert done.returncode == 0, done.stdout + done.stderr
    text = ALERTS.read_text()
    for name in REQUIRED_ALERTS:
        assert f"alert: {name}\n" in text, name


def test_alert_rules_fire_on_the_right_series() -> None:
    # alerts_test.yml feeds series and names the alerts expected (and not expected) to fire.
    done = _run("test", "rules", str(ALERT_TESTS))
    assert done.returncode == 0, done.stdout + done.stderr
    tested = ALERT_TESTS.read_text()
    for name in REQUIRED_ALERTS:
        assert f"alertname: {name}" in tested, name


def test_example_prometheus_config_is_valid() -> None:
    done = _run("check", "config", "--syntax-only", str(PROMETHEUS_CONFIG))
    assert done.returncode == 0, done.stdout + done.stderr
