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


GRAFANA = REPO / "deploy" / "grafana" / "spyne.json"


def test_grafana_queries_parse_and_name_only_real_metrics(tmp_path: Path) -> None:
    import json
    import re

    from prometheus_client import REGISTRY

    import gateway.metrics  # noqa: F401 - registers every family

    suffix = {"counter": "_total", "histogram": "_bucket", "gauge": ""}
    known = {family.name + suffix.get(family.type, "") for family in REGISTRY.collect()}
    dashboard = json.loads(GRAFANA.read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    assert len(exprs) >= 15
    rules = ["groups:", "  - name: grafana", "    rules:"]
    for n, expr in enumerate(exprs):
        for name in re.findall(r"\b(spyne_[a-z_]+)\b", expr):
            assert name in known, name
        concrete = expr.replace("$__rate_interval", "5m").replace("$__range", "1h").replace("$job", ".*")
        rules += [f"      - record: grafana:panel_{n}", f"        expr: {json.dumps(concrete)}"]
    path = tmp_path / "grafana_rules.yml"
    path.write_text("\n".join(rules) + "\n")
    done = _run("check", "rules", str(path))
    assert done.returncode == 0, done.stdout + done.stderr
