"""`webos backup` of a platform with records, stream messages, KV keys and files (local and S3), restored
into a fresh MongoDB database and a fresh NATS server: everything is back, byte for byte."""

import hashlib
import io
import tarfile
from pathlib import Path

import nats
import pytest
from nats.js.api import KeyValueConfig, StreamConfig

from webos_cli import buckets
from webos_cli.backup import BackupError, backup, restore
from webos_cli.buckets import Bucket
from webos_common.documents import db
from webos_common.infra import NatsServer


def _digests(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def fresh_nats(tmp_path):
    server = NatsServer(tmp_path / "nats2", log_path=tmp_path / "nats2.log", die_with_parent=True)
    server.start()
    yield server.url
    server.stop()


async def test_backup_then_restore_into_an_empty_platform(mongo_url, nats_url, db_name, tmp_path,
                                                          fresh_nats) -> None:
    mongo = db.mongo_client(mongo_url)
    source = mongo[db_name]
    await source["auth_users"].insert_many([{"_id": f"u{i}", "username": f"user{i}"} for i in range(25)])
    await source["auth_users"].create_index("username", unique=True)
    await source["settings_values"].insert_one({"_id": "system.branding", "values": {"title": "Acme"}})
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    stream = f"BK_{db_name.upper()}"
    await js.add_stream(StreamConfig(name=stream, subjects=[f"bk.{db_name}.>"]))
    for i in range(10):
        await js.publish(f"bk.{db_name}.event", f"e{i}".encode(), headers={"Nats-Msg-Id": f"m{i}"})
    kv = await js.create_key_value(KeyValueConfig(bucket=f"bk_{db_name}"))
    await kv.put("enabled.tasks", b"false")
    files = tmp_path / "afs-home"
    (files / "docs").mkdir(parents=True)
    (files / "docs" / "report.pdf").write_bytes(bytes(range(256)) * 400)
    (files / "notes.txt").write_text("hello")
    archive = tmp_path / "platform.tar.gz"

    manifest = await backup(archive, mongo=mongo, db_name=db_name, nc=nc, files={"home": files})
    await nc.close()
    assert manifest["counts"]["collections"] == {"auth_users": 25, "settings_values": 1}
    assert manifest["counts"]["streams"][stream] == 10
    assert manifest["counts"]["files"] == {"home": 2}

    restored_db, restored_files = f"{db_name}_r", tmp_path / "restored-home"
    nc2 = await nats.connect(fresh_nats)
    try:
        await restore(archive, mongo=mongo, db_name=restored_db, nc=nc2, files={"home": restored_files})
        target = mongo[restored_db]
        assert sorted([d async for d in target["auth_users"].find({})], key=lambda d: d["_id"]) == \
            sorted([d async for d in source["auth_users"].find({})], key=lambda d: d["_id"])
        assert "username_1" in [ix["name"] async for ix in await target["auth_users"].list_indexes()]
        branding = await target["settings_values"].find_one({"_id": "system.branding"})
        assert branding["values"] == {"title": "Acme"}
        js2 = nc2.jetstream()
        info = await js2.stream_info(stream)
        assert info.state.messages == 10
        assert (await js2.get_msg(stream, info.state.first_seq)).data == b"e0"
        assert (await (await js2.key_value(f"bk_{db_name}")).get("enabled.tasks")).value == b"false"
        assert _digests(restored_files) == _digests(files)
        with pytest.raises(BackupError, match="empty platform"):  # never merges into live data
            await restore(archive, mongo=mongo, db_name=restored_db, nc=nc2)
        await target["auth_users"].insert_one({"_id": "written-after-the-backup"})
        await restore(archive, mongo=mongo, db_name=restored_db, nc=nc2, replace=True)  # the drill's way
        assert await target["auth_users"].count_documents({}) == 25
        assert (await js2.stream_info(stream)).state.messages == 10
    finally:
        await nc2.close()
        await mongo.close()


async def test_a_corrupted_archive_is_refused_before_anything_is_written(mongo_url, nats_url, db_name,
                                                                         tmp_path) -> None:
    mongo = db.mongo_client(mongo_url)
    await mongo[db_name]["things"].insert_one({"_id": 1})
    nc = await nats.connect(nats_url)
    good, bad = tmp_path / "good.tar.gz", tmp_path / "bad.tar.gz"
    await backup(good, mongo=mongo, db_name=db_name, nc=nc)
    with tarfile.open(good) as src, tarfile.open(bad, "w:gz") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read()
            if member.name == "mongo/things.bson":
                data = data[:-2] + b"\x01\x00"
            member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
    try:
        with pytest.raises(BackupError, match="checksum"):
            await restore(bad, mongo=mongo, db_name=f"{db_name}_x", nc=nc)
        assert f"{db_name}_x" not in await mongo.list_database_names()
    finally:
        await nc.close()
        await mongo.close()


async def test_s3_source_files_are_backed_up_and_restored(mongo_url, nats_url, db_name, s3_url, tmp_path,
                                                          fresh_nats) -> None:
    keys = {"endpoint_url": s3_url, "access_key": "k", "secret_key": "s"}
    source, target = Bucket(f"b{db_name[2:]}", prefix="afs", **keys), Bucket(f"r{db_name[2:]}", **keys)
    objects = {"afs/docs/report.pdf": bytes(range(256)) * 4000, "afs/docs/": b"", "afs/notes.txt": b"hello",
               "elsewhere.txt": b"not this source's"}
    async with buckets.client(source) as s3:
        await s3.create_bucket(Bucket=source.bucket)
        for key, data in objects.items():
            await s3.put_object(Bucket=source.bucket, Key=key, Body=data)
    mongo = db.mongo_client(mongo_url)
    nc = await nats.connect(nats_url)
    archive = tmp_path / "platform.tar.gz"
    try:
        manifest = await backup(archive, mongo=mongo, db_name=db_name, nc=nc, s3={"s3": source})
    finally:
        await nc.close()
    assert manifest["counts"]["s3"] == {"s3": 3}

    nc2 = await nats.connect(fresh_nats)
    try:
        await restore(archive, mongo=mongo, db_name=f"{db_name}_r", nc=nc2, s3={"s3": target})
        async with buckets.client(target) as s3:
            restored = {key: hashlib.sha256(await buckets.read(s3, target, key)).hexdigest()
                        for key in await buckets.keys(s3, target)}
            assert restored == {key[len("afs/"):]: hashlib.sha256(data).hexdigest()
                                for key, data in objects.items() if key.startswith("afs/")}
            await s3.put_object(Bucket=target.bucket, Key="written-after.txt", Body=b"late")
            with pytest.raises(BackupError, match=f"s3 source s3 \\(s3://{target.bucket}/\\)"):
                await restore(archive, mongo=mongo, db_name=f"{db_name}_r", nc=nc2, s3={"s3": target},
                              replace=False)
            await restore(archive, mongo=mongo, db_name=f"{db_name}_r", nc=nc2, s3={"s3": target}, replace=True)
            assert "written-after.txt" not in await buckets.keys(s3, target)
            assert len(await buckets.keys(s3, target)) == 3
    finally:
        await nc2.close()
        await mongo.close()
