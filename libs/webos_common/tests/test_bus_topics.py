import pytest

from webos_common.bus import topic_matches, topic_to_subject


@pytest.mark.parametrize(
    ("topic", "subject"),
    [
        ("order:paid", "webos.events.order.paid"),
        ("file:*", "webos.events.file.*"),
        ("*:created", "webos.events.*.created"),
        ("file:>", "webos.events.file.>"),
        (">", "webos.events.>"),
        ("inventory.item:created", "webos.events.inventory.item.created"),
    ],
)
def test_topic_maps_to_subject(topic: str, subject: str) -> None:
    assert topic_to_subject(topic) == subject


@pytest.mark.parametrize("bad", ["order", ":paid", "order:", "or der:paid", "order:pa>id", "a:>:b"])
def test_malformed_topic_is_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        topic_to_subject(bad)


def test_wildcards_match_like_nats() -> None:
    assert topic_matches("file:*", "file:created")
    assert topic_matches("*:created", "order:created")
    assert topic_matches(">", "order:created")
    assert not topic_matches("file:*", "order:created")
    assert not topic_matches("file:*", "file.big:created")
