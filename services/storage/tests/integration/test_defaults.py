"""With no source configured: `local` under the state dir and `s3` from
`WEBOS_S3_ENDPOINT_URL`, its bucket created if missing (what `webos up` gets)."""

from __future__ import annotations

import uuid

from webos_common.security.testing import TestIssuer
from webos_common.testing import lifespan_client
from webos_storage.main import create_app
from webos_storage.settings import StorageSettings


async def test_default_sources_with_s3(webos_env, s3_url, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("WEBOS_S3_ENDPOINT_URL", s3_url)
    monkeypatch.setenv("WEBOS_S3_BUCKET", f"d-{uuid.uuid4().hex[:12]}")
    issuer = TestIssuer()
    app = create_app(StorageSettings())
    app.state.resources.verifier = issuer.verifier()
    async with lifespan_client(app) as client:
        headers = issuer.headers("alice")
        body = (await client.get("/sources", headers=headers)).json()
        assert {s["id"]: s["kind"] for s in body["sources"]} == {"local": "local", "s3": "s3"}
        for urn in ("fs://s3/hello.txt", "fs://local/hello.txt"):
            put = await client.put("/files/content", params={"urn": urn}, content=b"hi", headers=headers)
            assert put.status_code == 201
        home = await client.get("/files", params={"urn": body["home"]}, headers=headers)
        assert home.status_code == 200 and home.json()["items"] == []
    assert (tmp_path / "state" / "files" / "hello.txt").read_bytes() == b"hi"


async def test_unreachable_source_is_unavailable_and_the_rest_serves(webos_env, tmp_path, monkeypatch) -> None:
    from webos_common.infra.process import free_port

    monkeypatch.setenv("WEBOS_S3_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    issuer = TestIssuer()
    app = create_app(StorageSettings())
    app.state.resources.verifier = issuer.verifier()
    async with lifespan_client(app) as client:
        ready = await client.get("/readyz")
        assert ready.status_code == 200  # the home source serves; s3 answers for itself
        body = (await client.get("/sources", headers=issuer.headers("alice"))).json()
        status = {s["id"]: (s["available"], bool(s["reason"])) for s in body["sources"]}
        assert status == {"local": (True, False), "s3": (False, True)}
        missing = await client.get("/files", params={"urn": "fs://s3/"}, headers=issuer.headers("alice"))
        assert missing.status_code == 503 and missing.json()["error"]["details"]["source"] == "s3"
