"""watchdog.py: one thread acting at deadlines, in order, unless cancelled."""

import logging
import threading
import time

from playground.watchdog import Watchdog

PATIENCE = 5  # seconds for deadlines a fraction of a second away


def watchdog_threads() -> int:
    return sum(thread.name == "watchdog" for thread in threading.enumerate())


def test_the_watchdog_acts_at_each_deadline_in_order_unless_cancelled():
    dog, fired, done = Watchdog(), [], threading.Event()
    dog.after(0.3, lambda: (fired.append("late"), done.set()))
    cancelled = dog.after(0.1, lambda: fired.append("cancelled"))
    dog.after(0.05, lambda: fired.append("soon"))  # sooner than what the thread waits for
    dog.after(0.2, lambda: 1 / 0)  # a failing action stops nothing after it
    dog.cancel(cancelled)
    assert done.wait(5)
    assert fired == ["soon", "late"]


def test_no_action_runs_before_its_deadline():
    dog, late, done = Watchdog(), [], threading.Event()
    for seconds in (0.15, 0.0, 0.05, 0.1, 0.2):
        due = time.monotonic() + seconds
        dog.after(seconds, lambda due=due: late.append(time.monotonic() - due))
    dog.after(0.25, done.set)
    assert done.wait(PATIENCE)
    assert len(late) == 5 and min(late) >= 0, late


def test_many_deadlines_one_thread_in_the_order_they_fall_due():
    before = watchdog_threads()
    dog, fired, done = Watchdog(), [], threading.Event()
    for n in reversed(range(50)):  # given latest first
        dog.after(0.01 * n, lambda n=n: fired.append(n))
    dog.after(0.6, done.set)
    assert done.wait(PATIENCE)
    assert fired == list(range(50))
    assert watchdog_threads() == before + 1  # not a thread per deadline


def test_a_failing_action_is_logged_and_the_thread_goes_on(caplog):
    dog, done = Watchdog(), threading.Event()
    with caplog.at_level(logging.ERROR, logger="playground.watchdog"):
        dog.after(0, lambda: {}["missing"])
        dog.after(0.05, done.set)
        assert done.wait(PATIENCE)
    # Only this test's KeyError: the host's own watchdog may log beside it.
    [record] = [r for r in caplog.records if r.exc_info and r.exc_info[0] is KeyError]
    assert record.name == "playground.watchdog"
    assert record.getMessage() == "a watchdog action failed"


def test_an_action_may_set_the_next_deadline():
    dog, fired, done = Watchdog(), [], threading.Event()

    def tick(n: int) -> None:
        fired.append(n)
        if n < 3:
            dog.after(0.01, lambda: tick(n + 1))
        else:
            done.set()

    dog.after(0, lambda: tick(1))
    assert done.wait(PATIENCE)
    assert fired == [1, 2, 3]


def test_cancelling_after_the_action_ran_changes_nothing():
    dog, fired, done = Watchdog(), [], threading.Event()
    entry = dog.after(0, lambda: (fired.append("ran"), done.set()))
    assert done.wait(PATIENCE)
    dog.cancel(entry)
    dog.cancel(entry)
    assert fired == ["ran"]
