"""The operator's commands against the real MongoDB and NATS, as `webos …` runs them."""

import asyncio
import json
import subprocess
import sys

import nats
import pytest
from typer.testing import CliRunner

from webos_cli.creds import DeclarationError, module_declarations
from webos_cli.main import app
from webos_common.bus.settings import BusSettings
from webos_common.modules.registry import ModuleRegistry

runner = CliRunner()


def _webos(*args: str, env: dict[str, str]):
    result = runner.invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def _enabled(nats_url: str, name: str) -> bool:
    async def check() -> bool:
        nc = await nats.connect(nats_url)
        try:
            return await ModuleRegistry(nc.jetstream()).is_enabled(name)
        finally:
            await nc.close()

    return asyncio.run(check())


def test_modules_enable_disable_and_list(nats_url, db_name) -> None:
    env = {"WEBOS_NATS_URL": nats_url}
    name = f"m{db_name[-8:]}"
    assert f"module {name} disabled" in _webos("modules", "disable", name, env=env)
    assert _enabled(nats_url, name) is False
    line = next(ln for ln in _webos("modules", "list", env=env).splitlines() if ln.startswith(name))
    assert line.split()[1] == "false"
    _webos("modules", "enable", name, env=env)
    assert _enabled(nats_url, name) is True


def test_events_tail_prints_stored_events_as_json_lines(nats_url, db_name) -> None:
    subject = f"webos.events.cli{db_name[-8:]}.done"

    async def publish() -> None:
        nc = await nats.connect(nats_url)
        try:
            for i in range(2):
                await nc.jetstream().publish(subject, json.dumps({"n": i}).encode(), stream=BusSettings().stream)
        finally:
            await nc.close()

    asyncio.run(publish())
    done = subprocess.run([sys.executable, "-m", "webos_cli.main", "events", "tail", subject, "--from-start",
                           "-n", "2"], env={"WEBOS_NATS_URL": nats_url, "PATH": ""}, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["event"]["n"] for line in lines] == [0, 1]


def test_backup_and_restore_commands_refuse_a_bad_files_option(nats_url) -> None:
    result = runner.invoke(app, ["backup", "x.tar.gz", "--files", "nofolder"], env={"WEBOS_NATS_URL": nats_url})
    assert result.exit_code == 2
    assert "--files" in result.output


def test_unreachable_platform_is_said_plainly(tmp_path) -> None:
    result = runner.invoke(app, ["modules", "list", "--nats-url", "nats://127.0.0.1:1"])
    assert result.exit_code == 3
    assert "cannot reach the platform" in result.output


def test_backup_and_restore_commands_round_trip(mongo_url, nats_url, db_name, tmp_path) -> None:
    from pymongo import MongoClient

    from webos_common.infra import NatsServer

    with MongoClient(mongo_url) as client:
        client[db_name]["auth_users"].insert_one({"_id": "admin", "username": "admin"})
    files = tmp_path / "files"
    files.mkdir()
    (files / "a.txt").write_text("a")
    archive = str(tmp_path / "b.tar.gz")
    out = _webos("backup", archive, "--files", f"local={files}", "--mongo-url", mongo_url, "--db", db_name,
                 env={"WEBOS_NATS_URL": nats_url})
    assert "backed up to" in out and "1 files" in out
    fresh = NatsServer(tmp_path / "nats2", log_path=tmp_path / "nats2.log", die_with_parent=True)
    fresh.start()
    try:
        out = _webos("restore", archive, "--files", f"local={tmp_path / 'back'}", "--mongo-url", mongo_url,
                     "--db", f"{db_name}_r", "--nats-url", fresh.url, env={})
    finally:
        fresh.stop()
    assert "restored from" in out
    assert (tmp_path / "back" / "a.txt").read_text() == "a"
    with MongoClient(mongo_url) as client:
        assert client[f"{db_name}_r"]["auth_users"].find_one({"_id": "admin"})["username"] == "admin"


def test_migrate_lists_then_applies_each_modules_pending_migrations(mongo_url, db_name) -> None:
    args = ["migrate", "--module", "tasks", "--mongo-url", mongo_url, "--db", db_name]
    dry = _webos(*args, "--dry-run", env={})
    assert "module tasks: would apply 0001" in dry
    assert "module tasks: applied 0001" in _webos(*args, env={})
    assert "module tasks: applied nothing (up to date)" in _webos(*args, env={})
    assert "module tasks: would apply nothing" in _webos(*args, "--dry-run", env={})
    refused = runner.invoke(app, ["migrate", "--module", "nope"])
    assert refused.exit_code == 2 and "not installed" in refused.output


def test_backup_and_restore_commands_carry_s3_files(mongo_url, nats_url, db_name, s3_url, tmp_path) -> None:
    import boto3

    from webos_common.infra import NatsServer

    s3 = boto3.client("s3", endpoint_url=s3_url, aws_access_key_id="k", aws_secret_access_key="s",
                      region_name="us-east-1")
    source, target = f"c{db_name[2:]}", f"d{db_name[2:]}"
    s3.create_bucket(Bucket=source)
    s3.put_object(Bucket=source, Key="reports/q1.csv", Body=b"a,b\n1,2\n")
    env = {"WEBOS_S3_ACCESS_KEY": "k", "WEBOS_S3_SECRET_KEY": "s", "WEBOS_S3_ENDPOINT_URL": s3_url}
    archive = str(tmp_path / "b.tar.gz")
    out = _webos("backup", archive, "--s3", f"s3=s3://{source}", "--mongo-url", mongo_url, "--db", db_name,
                 env={**env, "WEBOS_NATS_URL": nats_url})
    assert "1 S3 objects" in out
    fresh = NatsServer(tmp_path / "nats2", log_path=tmp_path / "nats2.log", die_with_parent=True)
    fresh.start()
    try:
        out = _webos("restore", archive, "--s3", f"s3=s3://{target}", "--mongo-url", mongo_url,
                     "--db", f"{db_name}_r", "--nats-url", fresh.url, env=env)
    finally:
        fresh.stop()
    assert s3.get_object(Bucket=target, Key="reports/q1.csv")["Body"].read() == b"a,b\n1,2\n"
    bad = runner.invoke(app, ["backup", "x.tar.gz", "--s3", "s3=bucket-without-scheme"], env={})
    assert bad.exit_code == 2 and "--s3" in bad.output


def _max_rss_mib(args: list[str], env: dict[str, str]) -> float:
    """Run `webos ARGS` in its own process; its peak resident memory (MiB)."""
    import os
    from pathlib import Path

    proc = subprocess.Popen([str(Path(sys.executable).parent / "webos"), *args], env={**os.environ, **env},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    except BaseException:
        proc.kill()
        raise
    output = proc.stdout.read().decode() if proc.stdout else ""
    assert os.waitstatus_to_exitcode(status) == 0, output
    return usage.ru_maxrss / 1024


def test_backup_and_restore_stream_a_large_file_with_flat_memory(mongo_url, nats_url, db_name, tmp_path) -> None:
    """A 256 MiB file through `webos backup` and `webos restore`: neither process holds it. Each
    peak is compared with the same command on an empty folder (what the streams and the
    libraries take is the same in both)."""
    import hashlib

    from webos_common.infra import NatsServer

    empty, files, back = tmp_path / "empty", tmp_path / "files", tmp_path / "back"
    empty.mkdir()
    files.mkdir()
    size = 256 << 20
    with (files / "big.bin").open("wb") as f:
        f.truncate(size)  # zeros: quick to compress, as large in memory as any other bytes
    common = ["--mongo-url", mongo_url, "--db", db_name]
    base = _max_rss_mib(["backup", str(tmp_path / "e.tar.gz"), "--files", f"local={empty}", *common],
                        {"WEBOS_NATS_URL": nats_url})
    archive = str(tmp_path / "b.tar.gz")
    peak = _max_rss_mib(["backup", archive, "--files", f"local={files}", *common], {"WEBOS_NATS_URL": nats_url})
    assert peak - base < 64, f"backup peaked at {peak:.0f} MiB ({base:.0f} without the {size >> 20} MiB file)"
    fresh = NatsServer(tmp_path / "nats2", log_path=tmp_path / "nats2.log", die_with_parent=True)
    fresh.start()
    try:
        restore = ["--nats-url", fresh.url, "--mongo-url", mongo_url]
        base = _max_rss_mib(["restore", str(tmp_path / "e.tar.gz"), "--files", f"local={tmp_path / 'e2'}",
                             "--db", f"{db_name}_e", *restore], {})
        peak = _max_rss_mib(["restore", archive, "--files", f"local={back}", "--db", f"{db_name}_r", *restore,
                             "--replace"], {})
    finally:
        fresh.stop()
    assert peak - base < 64, f"restore peaked at {peak:.0f} MiB ({base:.0f} without the {size >> 20} MiB file)"
    digest = hashlib.sha256()
    with (back / "big.bin").open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    assert (back / "big.bin").stat().st_size == size
    assert digest.hexdigest() == hashlib.sha256(bytes(size)).hexdigest()


def test_events_refused_lists_the_rows_nats_refused_and_replays_them(mongo_url, db_name) -> None:
    from datetime import UTC, datetime

    from pymongo import MongoClient

    now = datetime.now(UTC)
    rows = [{"_id": f"e{n}", "envelope": {"topic": topic}, "status": status, "created_at": now,
             "refused_at": now if status == "refused" else None, "reason": "Permissions Violation"}
            for n, (topic, status) in enumerate([("item:received", "refused"), ("item:created", "sent"),
                                                 ("item:access_changed", "refused")])]
    with MongoClient(mongo_url) as client:
        client[db_name]["inventory_outbox"].insert_many(rows)
    args = ["--mongo-url", mongo_url, "--db", db_name]
    listed = [json.loads(line) for line in _webos("events", "refused", *args, env={}).splitlines()]
    assert [(r["module"], r["id"], r["topic"]) for r in listed] == [
        ("inventory", "e0", "item:received"), ("inventory", "e2", "item:access_changed")]
    assert "Permissions Violation" in listed[0]["reason"]
    out = _webos("events", "refused", "--replay", "--topic", "item:received", *args, env={})
    assert out.strip() == "inventory: 1 event(s) pending again"
    with MongoClient(mongo_url) as client:
        statuses = {r["_id"]: r["status"] for r in client[db_name]["inventory_outbox"].find()}
    assert statuses == {"e0": "pending", "e1": "sent", "e2": "refused"}


def test_demo_load_says_plainly_that_the_platform_is_not_up() -> None:
    done = subprocess.run([sys.executable, "-m", "webos_cli.main", "demo", "load", "--url", "http://127.0.0.1:1"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 3
    assert done.stdout == "" and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "webos up" in done.stderr, done.stderr


def test_a_module_that_cannot_declare_in_time_is_named_not_a_traceback() -> None:
    """`webos up` asks each module's package what it declares (a Python start-up); one that takes
    longer than `up`'s own `--timeout` is a plain error naming the module and what to do."""
    with pytest.raises(DeclarationError, match=r"module tasks: no declaration within 0.01 s .*--timeout"):
        module_declarations(["tasks"], timeout=0.01)
    assert module_declarations(["tasks"], timeout=120)["tasks"]  # the same, given its time
