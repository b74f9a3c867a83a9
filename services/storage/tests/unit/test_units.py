"""Pure logic: ranges, ETags, share tokens, access rules, settings."""

from __future__ import annotations

import time

import pytest

from webos_common.files.afs import Urn
from webos_common.http.errors import Forbidden, NotFound
from webos_common.identity import User
from webos_storage.access import Access
from webos_storage.adapters.local import LocalDataSource
from webos_storage.domain.model import Mount, SourceRules
from webos_storage.http_files import etag_matches, parse_range
from webos_storage.settings import StorageSettings
from webos_storage.shares import ShareSigner


@pytest.mark.parametrize("header, expected", [
    (None, None), ("bytes=0-9", (0, 10)), ("bytes=90-", (90, 10)), ("bytes=-5", (95, 5)),
    ("bytes=-500", (0, 100)), ("bytes=50-500", (50, 50)), ("bytes=100-", "bad"), ("bytes=9-3", "bad"),
    ("bytes=-0", "bad"), ("bytes=0-1,5-6", None), ("items=0-1", None), ("bytes=-", None),
])
def test_parse_range(header, expected) -> None:
    assert parse_range(header, 100) == expected


def test_etag_matching() -> None:
    assert etag_matches('"a", W/"b"', '"b"') and etag_matches("*", '"x"')
    assert not etag_matches('"a"', '"b"') and not etag_matches(None, '"b"')


def test_share_tokens() -> None:
    signer = ShareSigner("s3cret")
    token = signer.sign("fs://local/a.txt", int(time.time()) + 60, made_at=1234.5)
    assert signer.verify(token) == ("fs://local/a.txt", 1234.5)
    for bad in (token + "x", "x" + token, signer.sign("fs://local/a.txt", int(time.time()) - 1),
                ShareSigner("other").sign("fs://local/a.txt", int(time.time()) + 60), "nonsense", ""):
        with pytest.raises(NotFound):
            signer.verify(bad)


def make_access() -> Access:
    sources = {"local": LocalDataSource("local", "/nonexistent"), "s3": LocalDataSource("s3", "/nonexistent")}
    mounts = [Mount("reports", Urn("s3", "reports"), "reports.read", "reports.write")]
    return Access(sources, mounts, {"s3": SourceRules(None, "s3.write")}, "local")


def test_access_rules() -> None:
    access = make_access()
    alice, bob = User(id="alice"), User(id="bob", permissions=("reports.read", "s3.write"))
    admin = User(id="root", roles=("admin",))
    assert access.resolve("fs://reports/q.pdf").urn == Urn("s3", "reports/q.pdf")
    assert access.resolve("/mnt/reports/q.pdf").urn == Urn("s3", "reports/q.pdf")
    with pytest.raises(NotFound):
        access.resolve("fs://nowhere/x")
    home = Urn("local", "home/alice/x.txt")
    access.check(alice, home, write=True)
    access.check(admin, home, write=False)
    with pytest.raises(NotFound):
        access.check(bob, home, write=False)
    with pytest.raises(Forbidden):
        access.check(alice, Urn("s3", "reports/q.pdf"), write=False)
    access.check(bob, Urn("s3", "reports/q.pdf"), write=False)
    with pytest.raises(Forbidden):
        access.check(bob, Urn("s3", "reports/q.pdf"), write=True)
    with pytest.raises(Forbidden):
        access.check(alice, Urn("s3", "other.txt"), write=True)
    access.check(bob, Urn("s3", "other.txt"), write=True)
    assert [access.can_see(u, Urn("local", "home/alice")) for u in (alice, bob, admin)] == [True, False, True]


def test_default_sources_follow_the_environment(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("WEBOS_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("WEBOS_S3_ENDPOINT_URL", "http://127.0.0.1:8709")
    sources = StorageSettings().sources()
    assert [(s.id, s.kind) for s in sources] == [("local", "local"), ("s3", "s3")]
    assert sources[0].root == str(tmp_path / "files") and sources[1].endpoint_url == "http://127.0.0.1:8709"


def test_yaml_config_file(tmp_path) -> None:
    config = tmp_path / "storage.yaml"
    config.write_text(
        "sources:\n  - {id: archive, kind: local, root: /srv/archive, write_permission: archive.write}\n"
        "mounts:\n  - {path: /mnt/old, target: 'fs://archive/old/', read_permission: archive.read}\n")
    settings = StorageSettings(storage_config=str(config))
    assert [(s.id, s.write_permission) for s in settings.sources()] == [("archive", "archive.write")]
    assert [(m.name, m.target) for m in settings.mounts()] == [("old", "fs://archive/old/")]


def test_adapters_satisfy_the_data_source_protocol() -> None:
    from webos_common.files.afs import DataSource
    from webos_storage.adapters.s3 import S3DataSource

    assert isinstance(LocalDataSource("l", "/tmp/x"), DataSource)
    assert isinstance(S3DataSource("s", bucket="b", endpoint_url="http://127.0.0.1:1"), DataSource)
    assert S3DataSource("s", bucket="b").capabilities().kind == "s3"
