"""Person ids in shares and assignees are plain tokens: a control character or a slash is a
422 at the field, never a URL the directory lookup cannot build (a 503 before)."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from webos_common.documents.sharing import AssigneesIn, UserRef


class _Task(BaseModel):
    assignees: list[UserRef]


@pytest.mark.parametrize("bad", ["", "\x0ev", "a/b", "../x", "a b", "x" * 201])
def test_a_person_id_that_is_not_a_plain_token_is_refused(bad: str) -> None:
    for model, data in ((AssigneesIn, {"assignees": [bad]}), (_Task, {"assignees": [bad]})):
        with pytest.raises(ValidationError) as refused:
            model.model_validate(data)
        assert refused.value.errors()[0]["loc"][0] == "assignees"


def test_plain_ids_pass_once_each() -> None:
    ids = ["5a58588e0eb74c35a26e5bb8", "svc:tasks", "ann.lee@example"]
    assert AssigneesIn(assignees=[*ids, ids[0]]).assignees == ids
    assert _Task(assignees=ids).assignees == ids
