"""`kubectl kustomize` renders the base and both overlays, and what it
renders has the shape the issue asks for (probes, limits, non-root
read-only pods, HPAs, PDBs, NetworkPolicies, Secrets and ConfigMaps)."""

from __future__ import annotations

import pytest

from .conftest import OVERLAYS, render


def _by_kind(docs: list[dict], kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


@pytest.fixture(scope="module", params=OVERLAYS)
def rendered(request) -> tuple[str, list[dict]]:
    return request.param, render(request.param)


def test_renders_every_kind(rendered) -> None:
    _, docs = rendered
    kinds = {d["kind"] for d in docs}
    assert {"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy",
            "ConfigMap", "Secret", "ServiceAccount"} <= kinds
    assert all(d["metadata"].get("namespace") for d in docs), "every object is namespaced"


def test_pods_are_probed_limited_non_root_and_read_only(rendered) -> None:
    _, docs = rendered
    for name, dep in _by_kind(docs, "Deployment").items():
        pod = dep["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["automountServiceAccountToken"] is False, name
        mounts = set()
        for c in pod["containers"]:
            sc = c["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False, name
            assert sc["capabilities"]["drop"] == ["ALL"], name
            assert c["resources"]["requests"] and c["resources"]["limits"], name
            assert c["readinessProbe"] and c["livenessProbe"], name
            if "ports" in c:
                assert c["readinessProbe"]["httpGet"]["path"] == "/readyz", name
                assert c["livenessProbe"]["httpGet"]["path"] == "/healthz", name
            mounts |= {m["mountPath"] for m in c["volumeMounts"]}
        assert {"/tmp", "/var/lib/webos"} <= mounts, name
        assert all("emptyDir" in v for v in pod["volumes"]), name


def test_scaling_objects_cover_every_http_workload(rendered) -> None:
    _, docs = rendered
    deployments = _by_kind(docs, "Deployment")
    hpas = _by_kind(docs, "HorizontalPodAutoscaler")
    pdbs = _by_kind(docs, "PodDisruptionBudget")
    http = {n for n, d in deployments.items() if "ports" in d["spec"]["template"]["spec"]["containers"][0]}
    assert http <= set(hpas), "gateway, services and module hosts autoscale"
    assert "worker" in hpas
    assert set(deployments) == set(pdbs)
    for name, hpa in hpas.items():
        assert hpa["spec"]["scaleTargetRef"]["name"] == name


def test_only_the_gateway_is_reachable_from_outside(rendered) -> None:
    _, docs = rendered
    policies = _by_kind(docs, "NetworkPolicy")
    deny = policies.pop("default-deny-ingress")
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress"]}
    for name, policy in policies.items():
        for rule in policy["spec"]["ingress"]:
            if "from" not in rule:  # a rule without `from` admits every source
                assert name == "gateway", f"{name} must only admit named peers"
            else:
                assert all(set(peer) <= {"podSelector", "namespaceSelector"} for peer in rule["from"])
    assert set(policies) == set(_by_kind(docs, "Deployment"))
    shell = policies["shell-ui"]["spec"]["ingress"][0]["from"]
    assert shell == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "gateway"}}}]


def test_module_hosts_announce_their_pod_address(rendered) -> None:
    _, docs = rendered
    modules = [d for d in docs if d["kind"] == "Deployment"
               and d["spec"]["template"]["metadata"]["labels"]["webos.io/tier"] == "module"]
    assert modules
    for dep in modules:
        env = {e["name"]: e for e in dep["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert env["WEBOS_POD_IP"]["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP"
        port = env["WEBOS_PORT"]["value"]
        assert env["WEBOS_ADVERTISE_URL"]["value"] == f"http://$(WEBOS_POD_IP):{port}"
        names = list(env)
        assert names.index("WEBOS_POD_IP") < names.index("WEBOS_ADVERTISE_URL"), "defined before it is used"


def test_overlays_differ_where_they_should() -> None:
    dev, prod = render("overlays/dev"), render("overlays/prod")
    dev_cfg = _by_kind(dev, "ConfigMap")["webos-config"]["data"]
    prod_cfg = _by_kind(prod, "ConfigMap")["webos-config"]["data"]
    assert (dev_cfg["WEBOS_ENV"], prod_cfg["WEBOS_ENV"]) == ("development", "production")
    assert set(_by_kind(prod, "Secret")["webos-secrets"]["stringData"].values()) == {""}, (
        "prod ships no secret values: they come from the operator's secret manager")
    assert "gateway" in _by_kind(prod, "Ingress") and not _by_kind(dev, "Ingress")
    assert _by_kind(dev, "HorizontalPodAutoscaler")["gateway"]["spec"]["minReplicas"] == 1
    assert _by_kind(prod, "HorizontalPodAutoscaler")["gateway"]["spec"]["minReplicas"] >= 2
