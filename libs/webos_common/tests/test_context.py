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


def test_an_http_hop_carries_trace_and_request_id_and_no_identity() -> None:
    """What the gateway and every service's middleware decode (`begin`) and what a client
    sends on (`outgoing`): the same trace, a new span, the same request id — never a user."""
    incoming = f"00-{'1' * 32}-{'2' * 16}-01"
    context.current_user.set(User(id="u"))
    trace, span, rid = context.begin(incoming, "req-1")
    assert (trace, rid) == ("1" * 32, "req-1") and span != "2" * 16
    assert context.current_user.get() is None  # set once the service verified the credential
    assert context.outgoing() == {"traceparent": f"00-{trace}-{span}-01", "x-request-id": "req-1"}


def test_what_a_client_sends_is_checked_and_otherwise_replaced() -> None:
    assert context.parse_traceparent("00-zz-yy-01") is None
    assert context.parse_traceparent("00-" + "0" * 32 + "-" + "1" * 16 + "-01") is None
    trace, span, rid = context.begin("garbage", "bad id\r\nx-admin: 1")
    assert len(trace) == 32 and len(span) == 16 and len(rid) == 16 and " " not in rid
    assert context.begin(None, "x" * 129)[2] != "x" * 129  # too long for a log line
    recorded = ("3" * 32, "4" * 16)  # the server span, when spans are exported
    assert context.begin(None, None, recorded)[:2] == recorded
    assert context.begin(f"00-{'5' * 32}-{'6' * 16}-01", None, recorded)[0] == "5" * 32


def test_a_task_snapshot_is_decoded_by_the_same_rules() -> None:
    context.restore({"user": None, "trace_id": "not-hex", "span_id": "6" * 16, "request_id": "a b"})
    assert (context.trace_id.get(), context.span_id.get(), context.request_id.get()) == (None, None, None)
    with context.use({"trace_id": "7" * 32, "span_id": None, "request_id": "r-2"}):
        assert (context.trace_id.get(), context.span_id.get(), context.request_id.get()) == ("7" * 32, None, "r-2")
    assert context.trace_id.get() is None


def test_permission_wildcards() -> None:
    user = User(id="u", permissions=("inventory.*", "tasks.read"))
    assert user.has_permission("inventory.write")
    assert user.has_permission("tasks.read")
    assert not user.has_permission("tasks.write")
    assert not user.has_permission("inventoryx.read")
    assert User(id="a", roles=("admin",)).has_permission("anything.at_all")
