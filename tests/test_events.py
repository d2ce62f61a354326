"""sandbox/events.py: the numbered log listeners wait on, capped by count and by bytes."""

import json
import threading
import time

import pytest

from playground.sandbox.events import FRAME_OVERHEAD, EventLog, Frame

# Long enough that returning before it means a listener was woken, not timed out.
PATIENCE = 30


def filled(count: int, maxlen: int = 1000, max_bytes: int = 1 << 20) -> EventLog:
    """A log of `count` events, each keyed by its number."""
    log = EventLog(maxlen, max_bytes)
    for seq in range(1, count + 1):
        log.append("log", key=seq, line=str(seq))
    return log


def cost(frames: list[Frame]) -> int:
    return sum(len(frame.text) + FRAME_OVERHEAD for frame in frames)


def later(seconds: float, action) -> threading.Timer:
    timer = threading.Timer(seconds, action)
    timer.start()
    return timer


def test_an_event_is_kept_as_the_json_it_is_sent_as():
    log = EventLog(10, 1 << 20)
    before = time.time()
    frame = log.append("request", key=5000, path="/", status=200, trace={"a": [1, 2]})
    assert (frame.seq, frame.kind, frame.key) == (1, "request", 5000)
    event = json.loads(frame.text)
    assert event == frame.event()
    assert event.pop("time") >= before
    # The key is what listeners filter on; it is not sent.
    assert event == {
        "seq": 1,
        "type": "request",
        "path": "/",
        "status": 200,
        "trace": {"a": [1, 2]},
    }
    assert log.after(0) == [frame] and log.last_seq == 1 and log.size == cost([frame])


# What one event of filled() costs, give or take a digit of its time.
ONE = cost(filled(1).after(0))


@pytest.mark.parametrize(
    "count, maxlen, max_bytes, kept",
    [
        (5, 10, 1 << 20, [1, 2, 3, 4, 5]),
        (5, 3, 1 << 20, [3, 4, 5]),  # too many: the oldest go
        (5, 10, int(2.5 * ONE), [4, 5]),  # too many bytes: the oldest go
        (5, 10, ONE // 2, []),  # an event larger than the whole log is not kept either
        (0, 10, 1 << 20, []),
    ],
    ids=["under-both", "by-count", "by-bytes", "larger-than-the-log", "empty"],
)
def test_the_log_keeps_the_newest_within_its_count_and_bytes(count, maxlen, max_bytes, kept):
    log = filled(count, maxlen, max_bytes)
    frames = log.after(0)
    assert [frame.seq for frame in frames] == kept
    assert log.last_seq == count  # numbers go on, whatever was dropped
    assert log.size == cost(frames) <= max_bytes


def test_after_gives_the_frames_kept_after_a_number():
    log = filled(5, maxlen=3)
    assert [frame.seq for frame in log.after(4)] == [5]
    assert [frame.seq for frame in log.after(1)] == [3, 4, 5]  # 2 is gone: after() says nothing
    assert log.after(5) == [] and log.after(99) == []


def test_wait_after_answers_at_once_with_what_is_there():
    log = filled(3)
    started = time.monotonic()
    assert [frame.seq for frame in log.wait_after(1, PATIENCE)] == [2, 3]
    assert time.monotonic() - started < PATIENCE / 3


def test_wait_after_wakes_for_the_next_event_and_gives_nothing_at_its_timeout():
    log = filled(2)
    assert log.wait_after(2, 0.05) == []  # nothing new: empty, not None
    timer = later(0.1, lambda: log.append("log", line="late"))
    started = time.monotonic()
    frames = log.wait_after(2, PATIENCE)
    timer.join()
    assert [frame.event()["line"] for frame in frames] == ["late"]
    assert time.monotonic() - started < PATIENCE / 3, "the listener was not woken"


def test_the_hub_says_when_a_follower_is_too_far_behind():
    hub = EventLog(3, 1 << 20)
    for n in range(5):
        hub.append("edit", key="app.py", path="app.py", text=str(n))
    assert [json.loads(f.text)["text"] for f in hub.wait_after(2, 0)] == ["2", "3", "4"]
    assert hub.wait_after(1, 0) is None  # the second event is gone: time for a snapshot
    assert hub.wait_after(5, 0.01) == []


def test_a_listener_behind_the_byte_cap_is_told_too():
    log = filled(5, max_bytes=int(2.5 * ONE))
    assert log.wait_after(2, 0) is None
    assert [frame.seq for frame in log.wait_after(3, 0)] == [4, 5]


@pytest.mark.parametrize(
    "after, wanted, found",
    [
        (0, 3, 3),  # already there
        (3, 3, None),  # only frames after `after` count
        (0, "missing", None),
    ],
    ids=["kept", "before-after", "no-match"],
)
def test_wait_for_finds_the_first_matching_frame_kept_after_a_number(after, wanted, found):
    log = filled(5)
    frame = log.wait_for(lambda f: f.key == wanted, after, 0.05)
    assert (frame.seq if frame else None) == found


def test_wait_for_wakes_for_a_match_and_passes_over_the_rest():
    log = filled(2)

    def then() -> None:
        log.append("log", key="other")
        time.sleep(0.05)
        log.append("command", key=7, code=0)

    timer = later(0.1, then)
    started = time.monotonic()
    frame = log.wait_for(lambda f: f.kind == "command" and f.key == 7, log.last_seq, PATIENCE)
    timer.join()
    assert frame is not None and frame.seq == 4 and frame.event()["code"] == 0
    assert time.monotonic() - started < PATIENCE / 3, "the listener was not woken"


def test_wait_for_gives_none_at_its_timeout():
    log = filled(2)
    started = time.monotonic()
    assert log.wait_for(lambda f: True, log.last_seq, 0.2) is None
    assert time.monotonic() - started >= 0.2
