"""Leftovers of uploads a crash interrupted — a local temp file, an open S3 multipart
upload — are gone after the next start; an upload that cannot fit is refused before
its body is sent."""

from __future__ import annotations

import aioboto3

from webos_storage.adapters.local import TMP


async def test_a_restart_sweeps_temp_files_and_aborts_open_multipart_uploads(storage_app, tmp_path) -> None:
    async with storage_app("local") as h:  # creates the sources: main (local), other (S3)
        s3 = getattr(h.container.sources["other"], "inner", h.container.sources["other"])  # behind its guard
        bucket, s3_url = s3.bucket, s3.endpoint_url
        sources = h.app.state.resources.settings.storage_sources
    (tmp_path / "main" / TMP / "3f2a-interrupted").write_bytes(b"x" * 80_000)  # what a crash leaves
    session = aioboto3.Session(aws_access_key_id="k", aws_secret_access_key="s", region_name="us-east-1")
    async with session.client("s3", endpoint_url=s3_url) as s3:
        await s3.create_multipart_upload(Bucket=bucket, Key="big.bin")
        assert len((await s3.list_multipart_uploads(Bucket=bucket)).get("Uploads", [])) == 1

        async with storage_app("local", storage_sources=sources, storage_stale_upload_seconds=0) as h:
            assert (await h.client.get("/readyz")).status_code == 200
            assert list((tmp_path / "main" / TMP).iterdir()) == []
            assert (await s3.list_multipart_uploads(Bucket=bucket)).get("Uploads", []) == []


async def test_a_too_large_upload_is_refused_before_its_body(storage_app) -> None:
    async with storage_app("local", storage_max_upload_bytes=10) as h:
        refused = await h.client.put("/files/content", params={"urn": "fs://main/big.bin"}, content=b"x" * 11,
                                     headers={**h.as_user("alice"), "Expect": "100-continue"})
        assert refused.status_code == 413
        assert refused.json()["error"]["details"]["field"] == "content-length"
        assert (await h.get("fs://main/big.bin")).status_code == 404
        await h.put("fs://main/small.bin", b"12345")
