"""The chaos checker (`webos_cli.chaos.check`) fails on each kind of fault injected into its
own input: a checker that cannot fail proves nothing."""

from __future__ import annotations

from dataclasses import replace

from webos_cli.chaos import Event, Stored, Write, check, outages

KEY = "chaos-r-0-1"


def _clean() -> tuple[list[Write], dict[str, list[Stored]], list[Event], list[Event], dict[str, str]]:
    history = [
        Write(KEY, "create", f"{KEY}:0", 0, None, 1.0, "kill"),  # no answer: sent again
        Write(KEY, "create", f"{KEY}:0", 201, 1, 2.0, "kill"),
        Write(KEY, "update", f"{KEY}:1", 200, 2, 3.0),
        Write(KEY, "update", f"{KEY}:2", 503, None, 4.0, "kill", retry_after=True),
        Write(KEY, "update", f"{KEY}:3", 200, 3, 5.0),
    ]
    stored = {KEY: [Stored("t1", f"{KEY}:3")]}
    events = [Event("t1", "task:created", 1), Event("t1", "task:updated", 2), Event("t1", "task:updated", 3)]
    return history, stored, events, list(events), {KEY: "t1"}


def test_a_clean_history_passes_and_says_so_in_one_line() -> None:
    report = check(*_clean())
    assert report.ok, report.line()
    assert report.acknowledged == 3
    assert report.unavailable == {"kill": 1.0}  # refused at 1.0 until 2.0, and at 4.0 until 5.0
    assert report.line().startswith("acknowledged 3, lost 0, duplicated 0, reordered 0, partial 0")


def test_a_lost_record_or_value_is_found() -> None:
    history, _, stream, log, ids = _clean()
    assert check(history, {}, stream, log, ids).lost == [f"{KEY}: acknowledged create, no record"]
    stale = {KEY: [Stored("t1", f"{KEY}:1")]}  # the last acknowledged rename is gone
    assert not check(history, stale, stream, log, ids).ok
    unanswered_later = [*history, Write(KEY, "update", f"{KEY}:4", 0, None, 6.0)]
    assert check(unanswered_later, {KEY: [Stored("t1", f"{KEY}:4")]}, stream, log, ids).ok  # happened whole
    refused_later = [*history, Write(KEY, "update", f"{KEY}:4", 409, None, 6.0)]
    assert not check(refused_later, {KEY: [Stored("t1", f"{KEY}:4")]}, stream, log, ids).ok  # a 409 wrote it


def test_a_value_nobody_sent_is_partial() -> None:
    history, _, stream, log, ids = _clean()
    assert check(history, {KEY: [Stored("t1", "half")]}, stream, log, ids).partial


def test_two_records_for_one_idempotency_key_are_duplicates() -> None:
    history, stored, stream, log, ids = _clean()
    assert check(history, {KEY: [*stored[KEY], Stored("t2", f"{KEY}:0")]}, stream, log, ids).duplicated


def test_a_dropped_event_is_lost_in_the_stream_or_the_log() -> None:
    history, stored, stream, log, ids = _clean()
    assert check(history, stored, stream[:-1], log, ids).lost == [f"{KEY}: acknowledged versions [3] not in the stream"]
    assert check(history, stored, stream, log[1:], ids).lost == [f"{KEY}: acknowledged versions [1] not in the log"]


def test_a_duplicated_event_is_found() -> None:
    history, stored, stream, log, ids = _clean()
    assert check(history, stored, stream, [*log, log[1]], ids).duplicated
    assert check(history, stored, [*stream, stream[2]], log, ids).duplicated


def test_events_out_of_order_in_the_stream_are_reordered() -> None:
    history, stored, stream, log, ids = _clean()
    assert check(history, stored, [stream[0], stream[2], stream[1]], log, ids).reordered


def test_a_500_or_a_503_without_retry_after_fails_the_round() -> None:
    history, stored, stream, log, ids = _clean()
    assert not check([*history, Write(KEY, "update", "x", 500, None, 7.0)], stored, stream, log, ids).ok
    bare = [replace(w, retry_after=False, error="module_disabled") if w.status == 503 else w for w in history]
    report = check(bare, stored, stream, log, ids)
    assert report.bare_503 == 1 and not report.ok
    assert "(kill: module_disabled ×1)" in report.line()  # the line says which fault, which answer


def test_an_outage_is_measured_per_fault_until_the_next_acknowledged_write() -> None:
    history = [Write("k", "update", "v", 503, None, 10.0, "primary", True),
               Write("k", "update", "v", 503, None, 12.5, "primary", True),
               Write("k", "update", "v", 200, 2, 14.0, "primary"),
               Write("k", "update", "v", 200, 3, 15.0, "leader")]
    assert outages(history) == {"primary": 4.0, "leader": 0.0}
