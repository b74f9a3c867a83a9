"""URN parsing and the path checks every data source relies on."""

from __future__ import annotations

import pytest

from webos_common.files import afs
from webos_common.files.afs import PathRejected, Urn, is_within, parse_urn, safe_name, safe_path


@pytest.mark.parametrize("raw, expected", [
    ("", ""), ("a", "a"), ("a/b/c.txt", "a/b/c.txt"), ("folder/", "folder"),
    ("with space.txt", "with space.txt"), ("a%20b", "a%20b"), ("100%", "100%"), ("%ff%fe", "%ff%fe"),
    ("..a/b..", "..a/b.."),
    ("ünïcode/файл.txt", "ünïcode/файл.txt"),
])
def test_safe_paths_are_kept(raw: str, expected: str) -> None:
    assert safe_path(raw) == expected


@pytest.mark.parametrize("raw", [
    "..", "../x", "a/../../x", "a/..", "./x", "a/./b", "/etc/passwd", "//x", "a//b", "%2e%2e/x", "%2E%2E%2Fx",
    "a%2f..%2f..%2fx", "%252e%252e/x", "a\\b", "..\\x", "a\x00b", "a%00b", "a\nb", "C:/x", "c:x",
    "n" * 256, "/".join(["d"] * 2100), ".webos-trash/x", ".webos-tmp", "a%2e", "%5c", "100%25",
])
def test_unsafe_paths_are_rejected(raw: str) -> None:
    with pytest.raises(PathRejected) as rejected:
        safe_path(raw)
    assert rejected.value.status == 400 and rejected.value.details["field"] == "path"


def test_urns() -> None:
    assert parse_urn("fs://s3/reports/2023.pdf") == Urn("s3", "reports/2023.pdf")
    assert parse_urn("fs://reports/") == Urn("reports", "")
    assert str(Urn("local", "home/alice")) == "fs://local/home/alice"
    assert Urn("local", "home").child("bob") == Urn("local", "home/bob")
    for bad in ("s3/reports", "fs://", "fs://UPPER/x", "fs://../x", "fs://s3/../x", "http://s3/x"):
        with pytest.raises(PathRejected):
            parse_urn(bad)


def test_names_and_nesting() -> None:
    assert safe_name("report.pdf") == "report.pdf"
    for bad in ("", "a/b", ".."):
        with pytest.raises(PathRejected):
            safe_name(bad)
    assert is_within("a/b", "a") and is_within("a", "a") and is_within("x", "")
    assert not is_within("ab", "a") and not is_within("a", "a/b")


def test_lenient_urn_helpers_for_uis() -> None:
    """What a UI uses to show and build addresses; `parse_urn` checks them."""
    assert afs.split_urn("fs://local/a/b/") == ("local", "a/b")
    assert afs.split_urn("/mnt/reports/2023.pdf") == ("reports", "2023.pdf")
    assert afs.folder_urn("fs://local") == "fs://local/"
    assert afs.folder_urn("fs://local/a/b") == "fs://local/a/b/"
    assert afs.child_urn("fs://local/a", "x.txt") == "fs://local/a/x.txt"
    assert afs.child_urn("fs://s3/", "x.txt") == "fs://s3/x.txt"
    assert afs.parent_urn("fs://local/a/b/x.txt") == "fs://local/a/b/"
    assert afs.parent_urn("fs://local/a/") == "fs://local/"
    assert afs.parent_urn("fs://local/x") == "fs://local/"


    assert afs.looks_like_urn("/mnt/reports/x") and not afs.looks_like_urn("reports/x")
    assert afs.parse_urn(afs.from_mount_path("/mnt/reports/a")) == afs.Urn("reports", "a")
