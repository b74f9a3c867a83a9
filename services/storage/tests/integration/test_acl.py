"""Folder ACLs and persons' quotas over HTTP, with auth's real directory checking the people
and roles an ACL or a quota names (auth served on loopback, storage asking it with its own
service credentials)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from webos_auth.main import create_app as create_auth
from webos_auth.testing import Accounts, admin_headers, register
from webos_common.documents.sharing import AuthDirectory
from webos_common.testing import serve_app
from webos_storage.settings import MountConfig, SourceConfig


@dataclass
class Auth:
    client: httpx.AsyncClient
    directory: AuthDirectory

    async def person(self) -> str:
        return str((await register(self.client))["id"])

    async def role(self) -> str:
        name = f"r{uuid.uuid4().hex[:8]}"
        made = await self.client.post("/roles", headers=await admin_headers(self.client),
                                      json={"name": name, "permissions": []})
        assert made.status_code == 201, made.text
        return name


@pytest.fixture
async def auth(webos_env: dict[str, str], tmp_path: Path) -> AsyncIterator[Auth]:
    accounts = Accounts(tmp_path / "credentials")
    accounts.add("storage", "service")
    accounts.add("auth", "service")  # the audience of storage's directory look-ups
    async with serve_app(create_auth(accounts.settings())) as url, \
            httpx.AsyncClient(base_url=url, timeout=15) as client:
        yield Auth(client, AuthDirectory(url, accounts.credentials("storage", url)))


def names(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return sorted(i["name"] for i in response.json()["items"])


async def set_acl(h: Any, who: dict[str, str], urn: str, entries: list[dict[str, str]] | None) -> httpx.Response:
    return await h.client.put("/acl", json={"urn": urn, "entries": entries}, headers=who)


@pytest.mark.parametrize("kind", ["local", "s3"])
async def test_a_folder_shared_read_only_with_a_role(storage_app, auth: Auth, kind: str) -> None:
    role = await auth.role()
    async with storage_app(kind, adapters={"directory": auth.directory}) as h:
        ann, cat, bob = h.as_user("ann"), h.as_user("cat", roles=("user", role)), h.as_user("bob")
        assert (await h.client.post("/files/mkdir", json={"urn": "fs://main/finance"}, headers=ann)).status_code == 201
        await h.put("fs://main/finance/q3.txt", b"q3", user="ann")
        await h.put("fs://main/finance/sub/deep.txt", b"deep", user="ann")  # `sub` made on the way
        assert (await h.get("fs://main/finance/q3.txt", user="bob")).content == b"q3"  # no ACL yet: as before

        shared = await set_acl(h, ann, "fs://main/finance", [{"kind": "role", "id": role, "access": "read"}])
        assert shared.status_code == 200, shared.text
        assert shared.json()["acl"] == [{"kind": "role", "id": role, "access": "read"}]
        assert shared.json()["owner"] == "ann" and shared.json()["access"] == "manage"

        # a holder of the role reads, here and below (inherited), and writes nothing
        assert (await h.get("fs://main/finance/q3.txt", user="cat", roles=("user", role))).content == b"q3"
        assert names(await h.client.get("/files", params={"urn": "fs://main/finance/sub"}, headers=cat)) == [
            "deep.txt"]
        below = (await h.client.get("/acl", params={"urn": "fs://main/finance/sub"}, headers=cat)).json()
        assert below["inherited_from"] == "fs://main/finance" and below["access"] == "read"
        for urn in ("fs://main/finance/new.txt", "fs://main/finance/sub/new.txt", "fs://main/finance/q3.txt"):
            refused = await h.client.put("/files/content", params={"urn": urn}, content=b"x", headers=cat)
            assert refused.status_code == 403, (urn, refused.text)
            assert refused.json()["error"]["details"]["access"] == "write"
        refused = await h.client.delete("/files", params={"urn": "fs://main/finance/q3.txt"}, headers=cat)
        assert refused.status_code == 403

        # anyone else finds nothing: not the files, not the folder in its parent, not in a search
        for urn in ("fs://main/finance/q3.txt", "fs://main/finance/sub/deep.txt"):
            assert (await h.get(urn, user="bob")).status_code == 404
            shared_link = await h.client.post("/shares", json={"urn": urn}, headers=bob)
            assert shared_link.status_code == 404
        assert (await h.client.get("/files", params={"urn": "fs://main/finance"}, headers=bob)).status_code == 404
        assert (await h.client.get("/acl", params={"urn": "fs://main/finance"}, headers=bob)).status_code == 404
        assert "finance" not in names(await h.client.get("/files", params={"urn": "fs://main/"}, headers=bob))
        assert "finance" in names(await h.client.get("/files", params={"urn": "fs://main/"}, headers=cat))
        assert names(await h.client.get("/search", params={"name": "q3"}, headers=bob)) == []
        assert names(await h.client.get("/search", params={"name": "q3"}, headers=cat)) == ["q3.txt"]
        copied = await h.client.post("/files/copy", json={"src": "fs://main/finance", "dst": "fs://main/loot"},
                                     headers=bob)
        assert copied.status_code == 404
        assert (await h.client.post("/files/copy", json={"src": "fs://main/finance", "dst": "fs://other/copy"},
                                    headers=cat)).status_code == 201
        assert (await h.get("fs://other/copy/sub/deep.txt", user="cat", roles=("user", role))).content == b"deep"
        await h.assert_index_matches("main")


async def test_writers_add_but_only_owners_and_admins_delete(storage_app, auth: Auth) -> None:
    bob_id = await auth.person()
    async with storage_app("local", adapters={"directory": auth.directory}) as h:
        ann, bob = h.as_user("ann"), h.as_user(bob_id)
        admin = h.as_user("root", roles=("user", "admin"))
        await h.client.post("/files/mkdir", json={"urn": "fs://main/team"}, headers=ann)
        assert (await set_acl(h, ann, "fs://main/team", [{"kind": "user", "id": bob_id, "access": "write"}])
                ).status_code == 200
        await h.put("fs://main/team/ann.txt", b"ann's", user="ann")
        await h.put("fs://main/team/bob.txt", b"bob's", user=bob_id)
        await h.put("fs://main/team/ann.txt", b"edited by bob", user=bob_id)  # write: change others' files

        refused = [
            await h.client.delete("/files", params={"urn": "fs://main/team/ann.txt"}, headers=bob),
            await h.client.post("/files/move", json={"src": "fs://main/team/ann.txt", "dst": "fs://main/team/x.txt"},
                                headers=bob),
            await set_acl(h, bob, "fs://main/team", []),
        ]
        assert [r.status_code for r in refused] == [403] * 3
        assert {r.json()["error"]["details"]["access"] for r in refused} == {"owner or admin"}
        assert (await h.client.delete("/files", params={"urn": "fs://main/team/bob.txt"}, headers=bob)
                ).status_code == 200  # one's own file
        assert (await h.client.delete("/files", params={"urn": "fs://main/team/ann.txt"}, headers=admin)
                ).status_code == 200

        # the owner takes back what the admin deleted, though the ACL gives it to no one else
        assert (await set_acl(h, admin, "fs://main/team", [])).status_code == 200
        trash = (await h.client.get("/trash", headers=ann)).json()["items"]
        item = next(i for i in trash if i["urn"] == "fs://main/team/ann.txt")
        assert item["deleted_by"] == "root"
        assert (await h.client.post(f"/trash/{item['id']}/restore", headers=ann)).status_code == 200
        assert (await h.get("fs://main/team/ann.txt", user="ann")).content == b"edited by bob"
        assert (await h.client.get("/files", params={"urn": "fs://main/team"}, headers=bob)).status_code == 404
        assert names(await h.client.get("/files", params={"urn": "fs://main/team"}, headers=ann)) == ["ann.txt"]
        dropped = await set_acl(h, ann, "fs://main/team", None)  # no ACL: the source's default again
        assert dropped.json()["acl"] is None and dropped.json()["effective"] is None
        assert (await h.get("fs://main/team/ann.txt", user=bob_id)).status_code == 200
        await h.assert_index_matches("main")


async def test_a_source_default_and_an_acl_that_opens_a_folder(storage_app, auth: Auth, tmp_path: Path) -> None:
    sources = [SourceConfig(id="main", kind="local", root=str(tmp_path / "main"), default_access="read"),
               SourceConfig(id="other", kind="local", root=str(tmp_path / "other"), default_access="write"),
               SourceConfig(id="local", kind="local", root=str(tmp_path / "local"))]
    mounts = [MountConfig(path="/mnt/drop", target="fs://other/drop/", default_access="none")]
    async with storage_app("local", storage_sources=sources, storage_mounts=mounts,
                           adapters={"directory": auth.directory}) as h:
        bob, admin = h.as_user("bob"), h.as_user("root", roles=("user", "admin"))
        await h.put("fs://main/notice.txt", b"read me", user="root", roles=("user", "admin"))
        assert (await h.get("fs://main/notice.txt", user="bob")).content == b"read me"
        refused = await h.client.put("/files/content", params={"urn": "fs://main/mine.txt"}, content=b"x",
                                     headers=bob)
        assert refused.status_code == 403 and refused.json()["error"]["details"]["access"] == "write"
        await h.client.post("/files/mkdir", json={"urn": "fs://main/inbox"}, headers=admin)
        opened = await set_acl(h, admin, "fs://main/inbox", [{"kind": "role", "id": "user", "access": "write"}])
        assert opened.status_code == 200, opened.text
        await h.put("fs://main/inbox/mine.txt", b"x", user="bob")
        # a mount's default counts too, however the place is addressed
        await h.put("fs://other/drop/in.txt", b"d", user="root", roles=("user", "admin"))
        for urn in ("/mnt/drop/in.txt", "fs://other/drop/in.txt"):
            assert (await h.get(urn, user="bob")).status_code == 404
        # `write`: everyone adds and changes, but deletes only their own
        await h.put("fs://other/ann.txt", b"a", user="ann")
        await h.put("fs://other/ann.txt", b"changed", user="bob")
        await h.put("fs://other/bob.txt", b"b", user="bob")
        refused = await h.client.delete("/files", params={"urn": "fs://other/ann.txt"}, headers=bob)
        assert refused.status_code == 403 and refused.json()["error"]["details"]["access"] == "owner or admin"
        assert (await h.client.delete("/files", params={"urn": "fs://other/bob.txt"}, headers=bob)).status_code == 200
        assert (await h.client.delete("/files", params={"urn": "fs://other/ann.txt"}, headers=h.as_user("ann"))
                ).status_code == 200


async def test_bad_acls_are_refused_naming_what_is_wrong(storage_app, auth: Auth) -> None:
    async with storage_app("local", adapters={"directory": auth.directory}) as h:
        ann = h.as_user("ann")
        await h.client.post("/files/mkdir", json={"urn": "fs://main/f"}, headers=ann)
        await h.put("fs://main/f/file.txt", b"x", user="ann")
        for entry in ({"kind": "team", "id": "x"}, {"kind": "user", "id": "x", "access": "admin"},
                      {"kind": "user", "id": "a b"}, {"kind": "user", "id": "x", "extra": 1}):
            bad = await set_acl(h, ann, "fs://main/f", [entry])
            assert bad.status_code == 422, (entry, bad.text)
            assert all("entries" in str(d["field"]) for d in bad.json()["error"]["details"]), bad.text
        for entry, missing in (({"kind": "user", "id": "no-such-person"}, "no-such-person"),
                               ({"kind": "role", "id": "wizards"}, "wizards")):
            unknown = await set_acl(h, ann, "fs://main/f", [entry])
            assert unknown.status_code == 404
            assert unknown.json()["error"]["details"] == {"field": "entries", "id": missing}
        for urn in ("fs://main/f/file.txt", "fs://main/", "fs://local/home/ann"):
            misplaced = await set_acl(h, ann, urn, [])
            assert misplaced.status_code == 400 and misplaced.json()["error"]["details"]["field"] == "urn", urn
        assert (await h.client.get("/acl", params={"urn": "fs://main/f"}, headers=ann)).json()["acl"] is None


async def test_a_persons_own_quota_and_copies_that_pass_it(storage_app, auth: Auth) -> None:
    ann_id, bob_id = await auth.person(), await auth.person()
    async with storage_app("local", adapters={"directory": auth.directory}) as h:
        admin = h.as_user("root", roles=("user", "admin"))
        quota = f"/quotas/{ann_id}"
        assert (await h.client.put(quota, json={"bytes": 10}, headers=h.as_user(bob_id))).status_code == 403
        assert (await h.client.put("/quotas/no-such-person", json={"bytes": 10}, headers=admin)).status_code == 404
        assert (await h.client.put(quota, json={"bytes": -1}, headers=admin)).status_code == 422
        assert (await h.client.put(quota, json={"bytes": 10}, headers=admin)).json()["bytes"] == 10
        await h.put("fs://main/a.bin", b"123456", user=ann_id)
        refused = await h.client.put("/files/content", params={"urn": "fs://main/b.bin"}, content=b"abcdef",
                                     headers=h.as_user(ann_id))
        assert refused.status_code == 507 and "quota" in refused.json()["error"]["message"]
        await h.put("fs://main/big.bin", b"x" * 100, user=bob_id)  # bob has no quota of his own
        for src, dst in (("fs://main/a.bin", "fs://other/a.bin"), ("fs://main/big.bin", "fs://other/big.bin")):
            copied = await h.client.post("/files/copy", json={"src": src, "dst": dst}, headers=h.as_user(ann_id))
            assert copied.status_code == 507, copied.text  # a copy is its maker's
            assert (await h.get(dst, user=ann_id)).status_code == 404
        moved = await h.client.post("/files/move", json={"src": "fs://main/a.bin", "dst": "fs://other/a.bin"},
                                    headers=h.as_user(ann_id))
        assert moved.status_code == 200, moved.text  # a move only carries what ann already has
        mine = (await h.client.get(quota, headers=h.as_user(ann_id))).json()
        assert mine == {"person": ann_id, "bytes": 10, "own": True, "default": 0, "used": 6}
        assert (await h.client.get(f"/quotas/{bob_id}", headers=h.as_user(ann_id))).status_code == 403
        await h.client.put(quota, json={"bytes": None}, headers=admin)  # the default again: none
        await h.put("fs://main/b.bin", b"abcdef", user=ann_id)


async def test_an_acl_set_while_the_folder_is_tagged_or_made_keeps_both(storage_app, auth: Auth) -> None:
    """An ACL changes the folder's ACL alone: tags set at the same moment stay, and two people
    making the folder at once leave one owner whose ACL holds."""
    import asyncio

    role = await auth.role()
    async with storage_app("local", adapters={"directory": auth.directory}) as h:
        ann, bob = h.as_user("ann"), h.as_user("bob")
        made = await asyncio.gather(*(h.client.post("/files/mkdir", json={"urn": "fs://main/plans"}, headers=who)
                                      for who in (ann, bob, ann, bob)))
        assert {r.status_code for r in made} == {201}
        owner = (await h.client.get("/acl", params={"urn": "fs://main/plans"}, headers=ann)).json()["owner"]
        assert owner in ("ann", "bob")
        who = ann if owner == "ann" else bob
        for n in range(5):
            entries = [{"kind": "role", "id": role, "access": "read" if n % 2 else "write"}]
            acl, tags = await asyncio.gather(
                set_acl(h, who, "fs://main/plans", entries),
                h.client.put("/files/tags", json={"urn": "fs://main/plans", "tags": [f"t{n}"]}, headers=who))
            assert acl.status_code == 200 and tags.status_code == 200, (acl.text, tags.text)
            now = (await h.client.get("/acl", params={"urn": "fs://main/plans"}, headers=who)).json()
            assert now["acl"] == entries and now["owner"] == owner
            found = await h.client.get("/search", params={"tag": f"t{n}"}, headers=who)
            assert [i["urn"].rstrip("/") for i in found.json()["items"]] == ["fs://main/plans"]


async def test_an_acl_change_revokes_share_links_made_before_it(storage_app, auth: Auth) -> None:
    """Bob shares a file while he may read it; when the owner then closes the folder to him,
    his link must stop opening. Links made after the change, and links under other folders,
    keep working."""
    role = await auth.role()
    async with storage_app("local", adapters={"directory": auth.directory}) as h:
        ann, bob = h.as_user("ann"), h.as_user("bob")
        for folder in ("fs://main/plans", "fs://main/public"):
            assert (await h.client.post("/files/mkdir", json={"urn": folder}, headers=ann)).status_code == 201
        await h.put("fs://main/plans/deep/secret.txt", b"plan", user="ann")
        await h.put("fs://main/public/menu.txt", b"menu", user="ann")

        async def link(who: dict[str, str], urn: str) -> str:
            made = await h.client.post("/shares", json={"urn": urn, "expires_in": 600}, headers=who)
            assert made.status_code == 201, made.text
            return str(made.json()["path"])

        bobs, bobs_menu = await link(bob, "fs://main/plans/deep/secret.txt"), await link(bob, "fs://main/public/menu.txt")
        assert (await h.client.get(bobs)).content == b"plan"

        closed = await set_acl(h, ann, "fs://main/plans", [{"kind": "role", "id": role, "access": "read"}])
        assert closed.status_code == 200, closed.text
        gone = await h.client.get(bobs)
        assert gone.status_code == 404 and gone.json()["error"]["code"] == "share_not_found"
        assert (await h.client.get(bobs_menu)).content == b"menu"  # another folder's ACL: untouched
        assert (await h.client.post("/shares", json={"urn": "fs://main/plans/deep/secret.txt"},
                                    headers=bob)).status_code == 404  # and he cannot make a new one
        anns = await link(ann, "fs://main/plans/deep/secret.txt")
        assert (await h.client.get(anns)).content == b"plan"  # made after the change: opens

        reopened = await set_acl(h, ann, "fs://main/plans", None)  # removing an ACL is a change too
        assert reopened.status_code == 200, reopened.text
        assert (await h.client.get(anns)).status_code == 404
        assert (await h.client.get(bobs)).status_code == 404  # revoked stays revoked
