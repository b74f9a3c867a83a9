"""Per-person quotas: an upload that would take its owner past
`WEBOS_STORAGE_USER_QUOTA_BYTES` is a 507 naming the quota, and nothing of it
is kept — on local disk and on S3, announced or streamed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from webos_storage.adapters.local import TMP


async def _streamed(data: bytes) -> AsyncIterator[bytes]:  # chunked: no Content-Length to refuse early
    for start in range(0, len(data), 4):
        yield data[start:start + 4]


@pytest.mark.parametrize("kind", ["local", "s3"])
async def test_an_upload_past_the_quota_is_507_and_leaves_nothing(storage_app, tmp_path, kind: str) -> None:
    async with storage_app(kind, storage_user_quota_bytes=10) as h:
        await h.put("fs://main/a.bin", b"123456")
        for body in (b"abcdef", _streamed(b"abcdef")):
            refused = await h.client.put("/files/content", params={"urn": "fs://main/b.bin"}, content=body,
                                         headers=h.as_user("alice"))
            assert refused.status_code == 507, refused.text
            error = refused.json()["error"]
            assert error["code"] == "insufficient_storage" and error["details"]["field"] == "quota"
            assert "quota" in error["message"]
            assert (await h.get("fs://main/b.bin")).status_code == 404  # nothing half-written
        if kind == "local":
            assert list((tmp_path / "main" / TMP).iterdir()) == []
        await h.put("fs://main/a.bin", b"123456789")  # replacing one's own file: the old bytes no longer count
        await h.put("fs://main/b.bin", b"1234567890", user="bob")  # bob has a quota of his own
        listing = await h.client.get("/files", params={"urn": "fs://main/"}, headers=h.as_user("alice"))
        assert sorted(i["name"] for i in listing.json()["items"]) == ["a.bin", "b.bin"]
