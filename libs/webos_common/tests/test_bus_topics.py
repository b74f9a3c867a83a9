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


def test_the_subject_names_the_publisher_and_filters_take_any() -> None:
    from webos_common.bus.topics import event_subject, source_of, topic_filter

    assert event_subject("order:paid", "orders") == "webos.events.orders.order.paid"
    assert topic_filter("order:*") == "webos.events.*.order.*"
    assert topic_filter(">") == "webos.events.>"
    assert source_of(event_subject("order:paid", "orders")) == "orders"
    assert source_of("webos.logs.orders") is None
    with pytest.raises(ValueError):
        event_subject("order:paid", "or.ders")  # a dot would let a name pose as another's prefix
