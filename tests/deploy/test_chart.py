"""The Helm chart, rendered by Helm's own engine (helm-python-sdk, offline)
for the default values and for three modules: it lints clean, every object
validates against the Kubernetes schemas, and what it renders has the shape
the deployment needs (probes, limits, non-root read-only pods, HPAs, PDBs,
NetworkPolicies, secrets only by reference, a private /metrics, migrations
in a hook Job with its own deadline)."""

from __future__ import annotations

import pytest
import yaml

from .conftest import CHART, PRODUCTION, THREE_MODULES, by_kind, render

KUBERNETES_VERSION = "1.31.0"
CASES = {"default": None, "three-modules": THREE_MODULES, "production": PRODUCTION}


@pytest.fixture(scope="module", params=sorted(CASES))
def rendered(request) -> tuple[str, list[dict]]:
    return request.param, render(CASES[request.param])


def _workloads(docs: list[dict]) -> dict[str, dict]:
    return by_kind(docs, "Deployment")


@pytest.mark.parametrize("case", sorted(CASES))
def test_helm_lint_is_clean(case: str) -> None:
    helm = pytest.importorskip("helm_python")
    values = yaml.safe_load(CASES[case].read_text()) if CASES[case] else None
    report = helm.lint(str(CHART), values, strict=True, kube_version=f"v{KUBERNETES_VERSION}")
    problems = [m for m in report["messages"] if m["severity"] >= 2]
    assert not problems and not report["errors"], report


def test_every_object_validates_against_the_kubernetes_schemas(rendered) -> None:
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    _, docs = rendered
    checked = 0
    for doc in docs:
        if doc["apiVersion"].startswith("cert-manager.io/"):
            continue  # a CRD: kubernetes-validate knows the built-in kinds only
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        checked += 1
    assert checked >= 50


def test_renders_every_kind_into_the_namespace(rendered) -> None:
    _, docs = rendered
    kinds = {d["kind"] for d in docs}
    assert {"Namespace", "Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget",
            "NetworkPolicy", "ConfigMap", "ServiceAccount", "Ingress", "Job", "Certificate"} <= kinds
    namespace = by_kind(docs, "Namespace")["webos"]
    assert namespace["metadata"]["annotations"]["helm.sh/hook"] == "pre-install"
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    for doc in docs:
        if doc["kind"] not in ("Namespace", "Certificate"):
            assert doc["metadata"]["namespace"] == "webos", doc["metadata"]["name"]


def test_the_chart_renders_no_secret_and_references_existing_ones(rendered) -> None:
    _, docs = rendered
    assert not by_kind(docs, "Secret"), "every secret comes from an existing Secret"
    for name, dep in _workloads(docs).items():
        pod = dep["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        refs = [next(iter(r.values()))["name"] for r in container["envFrom"]]
        assert refs == ["webos-config", "webos-secrets"], name
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["WEBOS_CREDENTIAL_FILE"] == "/etc/webos/credential/credential.nk"
        volumes = {v["name"]: v for v in pod["volumes"]}
        secret = volumes["credential"]["secret"]
        assert secret["secretName"] == "webos-cred-" + env["WEBOS_PRINCIPAL"].replace("_", "-"), name
        assert secret["defaultMode"] == 0o400
        assert volumes["tls"]["secret"]["secretName"] == "webos-trust"
    auth = _workloads(docs)["auth"]["spec"]["template"]["spec"]
    assert {v["name"]: v for v in auth["volumes"]}["principals"]["secret"]["secretName"] == "webos-principals"


def test_pods_are_probed_limited_non_root_and_read_only(rendered) -> None:
    _, docs = rendered
    pods = [(n, d["spec"]["template"]["spec"]) for n, d in _workloads(docs).items()]
    pods += [(n, j["spec"]["template"]["spec"]) for n, j in by_kind(docs, "Job").items()]
    for name, pod in pods:
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["automountServiceAccountToken"] is False, name
        for c in pod["containers"]:
            sc = c["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False, name
            assert sc["capabilities"]["drop"] == ["ALL"], name
            assert c["resources"]["requests"] and c["resources"]["limits"], name
            if name in _workloads(docs):
                assert c["readinessProbe"] and c["livenessProbe"], name
            if "ports" in c:
                assert c["readinessProbe"]["httpGet"]["path"] == "/readyz", name
                assert c["livenessProbe"]["httpGet"]["path"] == "/healthz", name
            assert {"/tmp", "/var/lib/webos"} <= {m["mountPath"] for m in c["volumeMounts"]}, name


def test_the_worker_is_probed_on_its_own_probe_port_not_through_nats(rendered) -> None:
    _, docs = rendered
    worker = _workloads(docs)["worker"]["spec"]["template"]["spec"]["containers"][0]
    assert worker["ports"] == [{"name": "probes", "containerPort": 8790}]
    assert {"name": "WEBOS_HEALTH_PORT", "value": "8790"} in worker["env"]
    assert worker["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "probes"}
    assert worker["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "probes"}
    assert "Service" not in {d["kind"] for d in docs if d["metadata"]["name"] == "worker"}, "probes only, no API"
    annotations = _workloads(docs)["worker"]["spec"]["template"]["metadata"]["annotations"]
    assert annotations == {"prometheus.io/scrape": "true", "prometheus.io/port": "8790"}  # its task metrics


def test_scaling_objects_cover_every_workload(rendered) -> None:
    _, docs = rendered
    deployments = _workloads(docs)
    hpas, pdbs = by_kind(docs, "HorizontalPodAutoscaler"), by_kind(docs, "PodDisruptionBudget")
    assert set(deployments) == set(hpas) == set(pdbs) == set(by_kind(docs, "NetworkPolicy")) - {"default-deny-ingress"}
    for name, hpa in hpas.items():
        assert hpa["spec"]["scaleTargetRef"]["name"] == name
        assert hpa["spec"]["minReplicas"] == deployments[name]["spec"]["replicas"]


def test_only_the_gateway_is_reachable_from_outside(rendered) -> None:
    _, docs = rendered
    policies = by_kind(docs, "NetworkPolicy")
    deny = policies.pop("default-deny-ingress")
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress"]}
    for name, policy in policies.items():
        for rule in policy["spec"]["ingress"]:
            if "from" not in rule:  # a rule without `from` admits every source
                assert name == "gateway", f"{name} must only admit named peers"
            else:
                assert all(set(peer) <= {"podSelector", "namespaceSelector"} for peer in rule["from"])
    monitoring = [{"namespaceSelector": {"matchLabels": {"webos.io/monitoring": "true"}}}]
    assert policies["worker"]["spec"]["ingress"] == [{"from": monitoring, "ports": [
        {"port": 8790, "protocol": "TCP"}]}], "the worker has no API: only Prometheus reaches its probe port"
    shell = policies["shell-ui"]["spec"]["ingress"][0]["from"]
    assert shell == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "gateway"}}}]


def test_the_ingress_exposes_only_the_gateways_public_routes(rendered) -> None:
    case, docs = rendered
    ingress = by_kind(docs, "Ingress")["gateway"]["spec"]
    host = "webos.corp.example" if case == "production" else "webos.example.com"
    assert ingress["tls"] == [{"hosts": [host], "secretName": "webos-tls"}]
    paths = {p["path"]: (p["pathType"], p["backend"]["service"]["name"]) for p in ingress["rules"][0]["http"]["paths"]}
    assert paths.pop("/") == ("Prefix", "gateway")
    for private in ("/metrics", "/api/docs", "/api/openapi.json"):
        assert paths.pop(private) == ("Exact", "webos-blocked"), private
    assert all(backend == "webos-blocked" for _, backend in paths.values())
    blocked = by_kind(docs, "Service")["webos-blocked"]["spec"]
    assert "selector" not in blocked, "no endpoints: the controller answers, the gateway never sees it"


def chart_modules() -> set[str]:
    """The modules the chart's own values name (every module of the repository)."""
    return set(yaml.safe_load((CHART / "values.yaml").read_text())["modules"])


def test_module_hosts_come_from_the_modules_list(rendered) -> None:
    case, docs = rendered
    expected = chart_modules() | ({"inventory", "field_notes"} if case == "three-modules" else set())
    modules = {d["spec"]["template"]["spec"]["containers"][0]["env"][1]["value"]: d for d in _workloads(docs).values()
               if d["spec"]["template"]["metadata"]["labels"]["webos.io/tier"] == "module"}
    assert set(modules) == expected
    for module, dep in modules.items():
        container = dep["spec"]["template"]["spec"]["containers"][0]
        assert dep["metadata"]["name"] == "module-" + module.replace("_", "-")
        assert container["args"] == [module]
        env = {e["name"]: e for e in container["env"]}
        assert env["WEBOS_POD_IP"]["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP"
        port = env["WEBOS_PORT"]["value"]
        assert env["WEBOS_ADVERTISE_URL"]["value"] == f"http://$(WEBOS_POD_IP):{port}"
        names = list(env)
        assert names.index("WEBOS_POD_IP") < names.index("WEBOS_ADVERTISE_URL"), "defined before it is used"
    if case == "three-modules":
        inventory = modules["inventory"]
        assert inventory["spec"]["replicas"] == 3
        assert inventory["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] == "1Gi"
        assert by_kind(docs, "HorizontalPodAutoscaler")["module-inventory"]["spec"]["maxReplicas"] == 12
        notes = modules["field_notes"]["spec"]["template"]["spec"]["containers"][0]
        assert notes["image"].startswith("registry.example.com/teams/field-notes@sha256:")
        assert notes["ports"][0]["containerPort"] == 8720


def test_migrations_run_in_hook_jobs_with_their_own_deadline(rendered) -> None:
    case, docs = rendered
    jobs = by_kind(docs, "Job")
    provision = jobs.pop("webos-provision")
    assert provision["spec"]["template"]["spec"]["containers"][0]["command"] == [
        "python", "-m", "webos_common.infra.provision"]
    with_migrations = chart_modules() | ({"inventory"} if case == "three-modules" else set())
    expected = {f"webos-migrate-{name.replace('_', '-')}" for name in with_migrations}
    assert set(jobs) == expected, "field_notes opted out of migrations"
    for name, job in {**jobs, "webos-provision": provision}.items():
        notes = job["metadata"]["annotations"]
        assert notes["helm.sh/hook"] == "pre-install,pre-upgrade", name
        assert int(job["spec"]["activeDeadlineSeconds"]) == 1800, name
        container = job["spec"]["template"]["spec"]["containers"][0]
        env = {e["name"] for e in container["env"]}
        assert {"WEBOS_NATS_URL", "WEBOS_MONGO_DB", "WEBOS_CREDENTIAL_FILE"} <= env, "no ConfigMap yet at pre-install"
    assert int(provision["metadata"]["annotations"]["helm.sh/hook-weight"]) < int(
        jobs["webos-migrate-tasks"]["metadata"]["annotations"]["helm.sh/hook-weight"])
    assert jobs["webos-migrate-tasks"]["spec"]["template"]["spec"]["containers"][0]["args"] == ["tasks", "--migrate"]


def test_nats_and_mongodb_certificates_from_cert_manager(rendered) -> None:
    _, docs = rendered
    certs = by_kind(docs, "Certificate")
    assert certs["nats-server-tls"]["metadata"]["namespace"] == "nats"
    assert certs["mongodb-server-tls"]["metadata"]["namespace"] == "mongodb"
    assert certs["webos-trust"]["metadata"]["namespace"] == "webos"
    config = by_kind(docs, "ConfigMap")["webos-config"]["data"]
    assert config["WEBOS_NATS_URL"].startswith("tls://")
    assert config["WEBOS_NATS_CA_FILE"] == "/etc/webos/tls/ca.crt"


def test_values_switch_tls_digests_and_the_namespace() -> None:
    docs = render({"tls": {"enabled": False}, "namespace": {"name": "corp-webos", "create": False},
                   "image": {"digests": {"gateway": "sha256:" + "a" * 64}}})
    assert not by_kind(docs, "Certificate") and not by_kind(docs, "Namespace")
    assert by_kind(docs, "ConfigMap")["webos-config"]["data"]["WEBOS_NATS_URL"].startswith("nats://")
    assert {d["metadata"]["namespace"] for d in docs} == {"corp-webos"}
    gateway = _workloads(docs)["gateway"]["spec"]["template"]["spec"]
    assert gateway["containers"][0]["image"] == "webos/gateway@sha256:" + "a" * 64
    assert "tls" not in {v["name"] for v in gateway["volumes"]}


@pytest.mark.parametrize(("values", "field"), [
    ({"modules": {"inventory": {"replicas": {"min": "two", "max": 4}}}}, "/modules/inventory/replicas/min"),
    ({"modules": {"Inventory": {}}}, "Inventory"),
    ({"modules": {"inventory": {"replica": {"min": 1, "max": 2}}}}, "replica"),
    ({"image": {"registry": "webos", "digests": {"gateway": "latest"}}}, "/image/digests/gateway"),
    ({"migrations": {"timeoutSeconds": 5}}, "/migrations/timeoutSeconds"),
])
def test_bad_values_are_refused_naming_the_field(values: dict, field: str) -> None:
    helm = pytest.importorskip("helm_python")
    with pytest.raises(helm.HelmValuesError, match=field):
        render(values)


def test_production_values_pin_every_image_by_digest() -> None:
    docs = render(PRODUCTION)
    workloads = [*by_kind(docs, "Deployment").values(), *by_kind(docs, "Job").values()]
    pods = [d["spec"]["template"]["spec"] for d in workloads]
    images = {c["image"] for pod in pods for c in pod["containers"]}
    assert images and all("@sha256:" in i and i.startswith("registry.corp.example/webos/") for i in images), images
    gateway = by_kind(docs, "HorizontalPodAutoscaler")["gateway"]["spec"]
    assert (gateway["minReplicas"], gateway["maxReplicas"]) == (3, 20)
    account = by_kind(docs, "ServiceAccount")["storage"]["metadata"]["annotations"]
    assert account["eks.amazonaws.com/role-arn"].startswith("arn:aws:iam::")


def test_replicated_gateways_count_rate_limits_in_the_shared_bucket(rendered) -> None:
    """Two or more gateway pods: rate limits counted per replica would allow N times the limit."""
    _, docs = rendered
    gateway = _workloads(docs)["gateway"]
    env = {e["name"]: e.get("value") for e in gateway["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["WEBOS_RATE_LIMIT_STORE"] == "nats"
    assert env["WEBOS_SERVICE_NAME"] == "gateway"
