"""The alert rules and the dashboard in deploy/helm/webos/files/ use only metrics that exist,
and every alert links a runbook section that exists in docs/operations.md."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from webos_common.http.service import create_service_app
from webos_common.testing import lifespan_client

from .conftest import ROOT

FOLDER = ROOT / "deploy" / "helm" / "webos" / "files"
EXTERNAL = {  # exported by others, named here on purpose
    "up",  # Prometheus, per scrape target
    "nats_consumer_num_pending",  # prometheus-nats-exporter (-jsz), JetStream consumer lag
}
NAME = re.compile(r"\b((?:webos|process|nats)_[a-z0-9_]+|up)\b(?=\s*[{\[)]|\s*(?:==|>|<))")


def _slug(heading: str) -> str:
    return re.sub(r"[^a-z0-9 -]", "", heading.strip().lower()).replace(" ", "-")


@pytest.fixture(scope="module")
def exported() -> str:
    """What a WebOS process's /metrics shows, plus the gateway's own families (its source)."""
    async def scrape() -> str:
        async with lifespan_client(create_service_app("probe", use_mongo=False, use_nats=False)) as client:
            return (await client.get("/metrics")).text

    import asyncio

    gateway = (ROOT / "services/gateway/src/webos_gateway/telemetry.py").read_text()
    return asyncio.run(scrape()) + gateway


def _metrics(expr: str) -> set[str]:
    return {re.sub(r"_(bucket|count|sum)$", "", m) for m in NAME.findall(expr)}


def _check(expr: str, exported: str) -> None:
    names = _metrics(expr)
    assert names, expr
    for name in names - EXTERNAL:
        assert re.search(rf"\b{name}\b", exported), f"{name} is not exported by any WebOS process"


def _rules() -> list[dict]:
    doc = yaml.safe_load((FOLDER / "prometheusrule.yaml").read_text())
    assert doc["apiVersion"] == "monitoring.coreos.com/v1" and doc["kind"] == "PrometheusRule"
    return [rule for group in doc["spec"]["groups"] for rule in group["rules"]]


def test_every_alert_is_complete_and_uses_real_metrics(exported) -> None:
    rules = _rules()
    names = [r["alert"] for r in rules]
    assert len(names) == len(set(names))
    wanted = {"WebOSHighErrorRate", "WebOSHighLatency", "WebOSDeadLettersGrowing", "WebOSConsumerLag",
              "WebOSTaskFailures", "WebOSNotReady"}
    assert wanted <= set(names)
    for rule in rules:
        assert rule["labels"]["severity"] in ("warning", "critical"), rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
        _check(rule["expr"], exported)


def test_every_runbook_link_has_its_section_in_the_operations_guide() -> None:
    text = (ROOT / "docs" / "operations.md").read_text()
    anchors = {_slug(line.lstrip("#")) for line in text.splitlines() if line.startswith("#")}
    for rule in _rules():
        page, _, anchor = rule["annotations"]["runbook_url"].partition("#")
        assert page == "docs/operations.md" and anchor in anchors, rule["alert"]


def test_the_dashboard_is_valid_grafana_json_on_real_metrics(exported) -> None:
    dash = json.loads((FOLDER / "grafana-dashboard.json").read_text())
    assert dash["uid"] and dash["title"] and dash["schemaVersion"] >= 30
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids)) and len(ids) >= 8
    for panel in dash["panels"]:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            _check(target["expr"], exported)


def test_the_chart_installs_the_same_alerts_and_dashboard_when_asked() -> None:
    from .conftest import render

    assert not [d for d in render() if d["kind"] in ("PrometheusRule",) or d["metadata"]["name"].endswith("-dashboard")]
    docs = render({"monitoring": {"prometheusRule": {"enabled": True}, "grafanaDashboard": {"enabled": True}}})
    rule = next(d for d in docs if d["kind"] == "PrometheusRule")
    assert rule["spec"] == yaml.safe_load((FOLDER / "prometheusrule.yaml").read_text())["spec"]
    board = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-dashboard"))
    assert board["metadata"]["labels"]["grafana_dashboard"] == "1"
    shipped = json.loads((FOLDER / "grafana-dashboard.json").read_text())
    assert json.loads(board["data"]["webos-overview.json"]) == shipped
