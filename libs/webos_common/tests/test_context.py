import asyncio

from webos_common import context
from webos_common.identity import User


async def test_values_survive_create_task() -> None:
    context.current_user.set(User(id="alice"))
    context.trace_id.set("e" * 32)

    async def child() -> tuple[str | None, str | None]:
        user = context.current_user.get()
        return (user.id if user else None, context.trace_id.get())

    assert await asyncio.create_task(child()) == ("alice", "e" * 32)


async def test_capture_then_restore_in_a_fresh_task() -> None:
    context.current_user.set(User(id="bob", roles=("admin",)))
    context.trace_id.set("f" * 32)
    context.request_id.set("req-1")
    snapshot = context.capture()
    context.current_user.set(None)
    context.trace_id.set(None)

    async def worker() -> tuple[User | None, str | None, str | None]:
        context.restore(snapshot)
        return context.current_user.get(), context.trace_id.get(), context.request_id.get()

    # A task created from an empty context, as a bus handler or worker would be.
    user, trace, rid = await asyncio.get_running_loop().create_task(worker(), context=None)
    assert user == User(id="bob", roles=("admin",))
    assert (trace, rid) == ("f" * 32, "req-1")


def test_headers_round_trip() -> None:
    snap = {"user": User(id="u", permissions=("a.read",)).model_dump(mode="json"), "trace_id": "1" * 32,
            "span_id": "2" * 16, "request_id": "rid"}
    headers = context.to_headers(snap)
    assert headers["traceparent"] == f"00-{'1' * 32}-{'2' * 16}-01"
    assert headers["webos-user-id"] == "u"
    assert context.from_headers(headers) == snap


def test_bad_traceparent_starts_a_new_trace() -> None:
    assert context.parse_traceparent("00-zz-yy-01") is None
    assert context.parse_traceparent("00-" + "0" * 32 + "-" + "1" * 16 + "-01") is None
    snap = context.from_headers({"traceparent": "garbage"})
    assert len(snap["trace_id"]) == 32


def test_permission_wildcards() -> None:
    user = User(id="u", permissions=("inventory.*", "tasks.read"))
    assert user.has_permission("inventory.write")
    assert user.has_permission("tasks.read")
    assert not user.has_permission("tasks.write")
    assert not user.has_permission("inventoryx.read")
    assert User(id="a", roles=("admin",)).has_permission("anything.at_all")
