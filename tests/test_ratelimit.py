"""ratelimit.py: token buckets per visitor (or for everyone), refused with a 429 that says when
to try again."""

import time

import pytest

from playground import ratelimit
from playground.config import defaults
from playground.errors import PlaygroundError
from playground.ratelimit import EVERYONE, RateLimit


def refusal(limit: RateLimit, key: str, cost: float = 1) -> PlaygroundError:
    with pytest.raises(PlaygroundError) as refused:
        limit.take(key, cost)
    return refused.value


def test_a_burst_passes_then_the_next_call_is_a_429_that_says_when():
    limit = RateLimit("runs", rate=1 / 60, burst=3, per="minute")
    for _ in range(3):
        limit.take("alice")
    error = refusal(limit, "alice")
    assert (error.status, error.code) == (429, "rate_limited")
    assert 59 <= error.details["retry_after"] <= 60.1  # rounded up, with RETRY_MARGIN
    assert error.message.startswith(
        "slow down: you may send 1 runs a minute (and 3 at once). Try again in "
    )


@pytest.mark.parametrize(
    "per, everyone, message",
    [
        (
            "minute",
            False,
            "slow down: you may send 6 shares a minute (and 2 at once). Try again in 10.1 s.",
        ),
        (
            "second",
            False,
            "slow down: you may send 0.1 shares a second (and 2 at once). Try again in 10.1 s.",
        ),
        (
            "minute",
            True,
            "the playground takes 6 shares a minute from all visitors together (and 2 "
            "at once), and that many came. Try again in 10.1 s.",
        ),
    ],
    ids=["per-visitor-a-minute", "per-visitor-a-second", "everyone"],
)
def test_the_refusal_says_the_rate_in_the_limits_own_terms(per, everyone, message):
    limit = RateLimit("shares", rate=0.1, burst=2, per=per, everyone=everyone)
    limit.take(EVERYONE if everyone else "alice", 2)
    error = refusal(limit, EVERYONE if everyone else "alice")
    # The wait is counted from the refusal, with RETRY_MARGIN, rounded up to a tenth: a client
    # that waits exactly that long finds its token.
    assert error.message == message and error.details["retry_after"] == 10.1


def test_each_key_has_a_bucket_of_its_own():
    limit = RateLimit("requests", rate=0.01, burst=1, per="second")
    limit.take("alice")
    refusal(limit, "alice")
    limit.take("bob")
    refusal(limit, "bob")


def test_a_call_may_cost_more_than_one_and_is_refused_whole():
    limit = RateLimit("bytes", rate=0.01, burst=5, per="second")
    limit.take("alice", 3)
    error = refusal(limit, "alice", 3)  # 2 left: nothing is spent on a refusal
    assert error.details["retry_after"] == pytest.approx(100.1, abs=0.1)
    limit.take("alice", 2)
    refusal(limit, "alice", 0.5)


def test_tokens_come_back_at_the_rate_and_never_past_the_burst():
    limit = RateLimit("requests", rate=10, burst=2, per="second")
    limit.take("alice", 2)
    refusal(limit, "alice")
    time.sleep(0.5)  # five tokens' worth of time: the bucket holds two
    limit.take("alice", 2)
    refusal(limit, "alice")


def test_tokens_given_back_for_a_call_refused_otherwise_count_again_up_to_the_burst():
    limit = RateLimit("runs", rate=0.001, burst=2, per="minute")
    limit.take("alice", 2)
    limit.give_back("alice")  # the run was refused for another reason: it cost nothing
    limit.take("alice")
    refusal(limit, "alice")
    limit.give_back("alice", 5)
    limit.take("alice", 2)  # never more than the burst
    refusal(limit, "alice")
    limit.give_back("nobody")  # no bucket yet: a fresh one comes with its burst, no more
    limit.take("nobody", 2)
    refusal(limit, "nobody")


def test_new_keys_free_no_visitor_who_keeps_calling():
    """Past max_keys refilled buckets go first, then the longest unused: a script making up
    keys cannot reset a visitor who called within the last max_keys/4 new keys."""
    limit = RateLimit("runs", rate=0.001, burst=1, per="second", max_keys=8)
    limit.take("alice")
    for n in range(8):
        limit.take(f"made-up {n}")
        if n == 3:
            time.sleep(0.001)
            refusal(limit, "alice")  # a call, refused, is a call: her bucket is in use
            time.sleep(0.001)
    refusal(limit, "alice")


def test_a_flood_of_new_keys_holds_at_most_max_keys_buckets():
    limit = RateLimit("runs", rate=0.001, burst=1, per="second", max_keys=100)
    sizes = set()
    for n in range(1000):
        limit.take(f"made-up {n}")
        sizes.add(len(limit._buckets))
    assert max(sizes) == 100 and min(sizes) == 1


def test_the_playgrounds_limits_count_what_their_settings_say():
    settings = defaults()
    limits = ratelimit.for_app(settings)
    # limit -> (the setting of its rate, of its burst, the unit of the rate)
    expected = {
        "runs": ("RATE_RUNS_PER_MINUTE", "RATE_RUN_BURST", "minute"),
        "requests": ("RATE_REQUESTS_PER_SECOND", "RATE_REQUEST_BURST", "second"),
        "commands": ("RATE_COMMANDS_PER_MINUTE", "RATE_COMMAND_BURST", "minute"),
        "shares": ("RATE_SHARES_PER_MINUTE", "RATE_SHARE_BURST", "minute"),
        "highlights": ("RATE_HIGHLIGHTS_PER_SECOND", "RATE_HIGHLIGHT_BURST", "second"),
        "text_bytes": ("TEXT_BYTES_PER_SECOND", "TEXT_BYTES_BURST", "second"),
        "formats": ("RATE_FORMATS_PER_MINUTE", "RATE_FORMAT_BURST", "minute"),
        "all_shares": ("RATE_ALL_SHARES_PER_MINUTE", "RATE_ALL_SHARE_BURST", "minute"),
        "presenter_tries": (
            "RATE_PRESENTER_TRIES_PER_MINUTE",
            "RATE_PRESENTER_TRY_BURST",
            "minute",
        ),
        "all_presenter_tries": (
            "RATE_ALL_PRESENTER_TRIES_PER_MINUTE",
            "RATE_ALL_PRESENTER_TRY_BURST",
            "minute",
        ),
    }
    assert set(limits) == set(expected)
    for name, (rate, burst, per) in expected.items():
        limit = limits[name]
        assert limit.per == per and limit.burst == settings[burst], name
        assert limit.rate * (60 if per == "minute" else 1) == pytest.approx(settings[rate]), name
        # Limits on all visitors together say so, as a visitor cannot wait them out alone.
        assert limit.everyone == (name.startswith("all_") or name == "text_bytes"), name
        limit.take(EVERYONE if limit.everyone else "alice", limit.burst)
        assert (
            refusal(limit, EVERYONE if limit.everyone else "alice", max(1, limit.rate)).code
            == "rate_limited"
        ), name


def test_waiting_exactly_retry_after_finds_a_token():
    limit = RateLimit("runs", rate=5, burst=1, per="second")
    for _ in range(20):  # a float a hair short would be a second refusal, now and then
        limit.take("alice")
        time.sleep(refusal(limit, "alice").details["retry_after"])
