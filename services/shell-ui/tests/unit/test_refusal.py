"""What the grid says when a save is refused (pure)."""

from __future__ import annotations

from webos_common.clients.session import ApiError
from webos_shell.explorer import refusal


def _error(status: int, message: str) -> ApiError:
    return ApiError(status, {"error": {"code": "x", "message": message}})


def test_a_row_still_listed_is_one_the_person_may_only_read() -> None:
    assert refusal(_error(404, "No task with id 1"), seen=True) == (
        "Not saved: you may read this record but not change it")


def test_a_row_no_longer_listed_is_gone() -> None:
    assert refusal(_error(404, "No task with id 1"), seen=False) == (
        "Not saved: this record is gone (deleted, or no longer shared with you)")


def test_other_refusals_are_shown_in_the_platform_s_words() -> None:
    assert refusal(_error(403, "Missing permission tasks.write"), seen=True) == (
        "Not saved: Missing permission tasks.write")
