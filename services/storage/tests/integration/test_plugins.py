"""Data sources from the `webos.data_sources` entry-point group (packages in storage's own
environment), and modules' sources, which storage never imports: their hosts serve them."""

from __future__ import annotations

import textwrap

from webos_storage.adapters.local import LocalDataSource
from webos_storage.bootstrap import contributed_sources
from webos_storage.settings import StorageSettings


def install_plugin(root, module: str, body: str, entry: str, group: str = "webos.data_sources") -> None:
    """A real distribution on sys.path: dist-info with entry_points.txt, and its module."""
    (root / f"{module}.py").write_text(textwrap.dedent(body))
    info = root / f"{module}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[{group}]\n{entry}\n")


async def test_plugin_sources_are_loaded_and_broken_ones_skipped(storage_app, tmp_path, monkeypatch) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    install_plugin(plugins, "webos_test_archive", f"""
        from webos_storage.adapters.local import LocalDataSource

        def sources(settings):
            return [LocalDataSource("archive", {str(tmp_path / "archive")!r})]
    """, "archive = webos_test_archive:sources")
    install_plugin(plugins, "webos_test_broken", """
        def sources(settings):
            raise RuntimeError("cannot reach the tape robot")
    """, "broken = webos_test_broken:sources")
    monkeypatch.syspath_prepend(str(plugins))
    assert "archive" in [s.id for s in contributed_sources(StorageSettings())]  # and the broken one did not raise
    async with storage_app() as h:
        listed = (await h.client.get("/sources", headers=h.as_user("alice"))).json()
        assert "archive" in {s["id"] for s in listed["sources"]}
        await h.put("fs://archive/old/1999.txt", b"party")
        assert (tmp_path / "archive" / "old" / "1999.txt").read_bytes() == b"party"


async def test_a_modules_source_is_mounted_from_the_registry_not_imported(storage_app, module_source, eventually,
                                                                          tmp_path, monkeypatch) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    install_plugin(plugins, "webos_test_photos", """
        def webos_register_data_sources(settings):
            raise AssertionError("storage imported a module")
    """, "photos = webos_test_photos", group="webos.modules")
    monkeypatch.syspath_prepend(str(plugins))
    async with storage_app() as h:
        assert "photos" not in h.container.sources  # installed beside storage, yet never loaded
        async with module_source(LocalDataSource("late", tmp_path / "late")) as m:
            assert await eventually(lambda: "late" in h.container.sources)  # appears while storage runs
            await h.put("fs://late/a.txt", b"hello")
            assert (tmp_path / "late" / "a.txt").read_bytes() == b"hello"
            listed = (await h.client.get("/sources", headers=h.as_user("alice"))).json()
            assert "late" in {s["id"] for s in listed["sources"]}
            assert h.container.sources["late"].module == m
        assert await eventually(lambda: "late" not in h.container.sources)  # its host gone: unmounted
        gone = await h.get("fs://late/a.txt")
        assert gone.status_code == 404 and gone.json()["error"]["code"] == "unknown_source"


async def test_a_module_cannot_take_a_configured_sources_name(storage_app, module_source, eventually, tmp_path) -> None:
    async with storage_app() as h:
        local = h.container.sources["local"]
        async with module_source(LocalDataSource("local", tmp_path / "x")):
            async with module_source(LocalDataSource("extra", tmp_path / "y")):
                assert await eventually(lambda: "extra" in h.container.sources)
                assert h.container.sources["local"] is local  # announced after: ignored, never replaced


async def test_a_module_source_without_a_host_is_a_fast_503(storage_app, module_source, eventually, tmp_path) -> None:
    async with storage_app() as h:
        async with module_source(LocalDataSource("gone", tmp_path / "g")) as m:
            assert await eventually(lambda: "gone" in h.container.sources)
            remote = h.container.sources["gone"]
        h.container.sources["gone"] = remote  # as if the registry had not noticed yet
        answer = await h.get("fs://gone/a.txt")
        assert answer.status_code == 503 and answer.json()["error"]["details"]["module"] == m
