"""Data sources contributed by modules (`webos_register_data_sources`) and through the
`webos.data_sources` entry-point group."""

from __future__ import annotations

import textwrap

from webos_storage.bootstrap import contributed_sources
from webos_storage.settings import StorageSettings


def install_plugin(root, module: str, body: str, entry: str, group: str = "webos.data_sources") -> None:
    """A real distribution on sys.path: dist-info with entry_points.txt, and its module."""
    (root / f"{module}.py").write_text(textwrap.dedent(body))
    info = root / f"{module}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[{group}]\n{entry}\n")


async def test_module_sources_are_loaded_and_broken_ones_skipped(storage_app, tmp_path, monkeypatch) -> None:
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


def test_a_module_contributes_sources_through_its_hook(tmp_path, monkeypatch) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    install_plugin(plugins, "webos_test_photos", f"""
        from webos_storage.adapters.local import LocalDataSource

        def webos_register_data_sources(settings):
            return [LocalDataSource("photos", {str(tmp_path / "photos")!r})]
    """, "photos = webos_test_photos", group="webos.modules")
    monkeypatch.syspath_prepend(str(plugins))
    sources = {s.id: s for s in contributed_sources(StorageSettings())}
    assert "photos" in sources
    assert str(tmp_path / "photos") in str(sources["photos"].root)
