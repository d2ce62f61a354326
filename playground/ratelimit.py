"""Per-visitor rate limits: token buckets, refused with a 429 that says when to try again.

Keyed by the visitor cookie, not the address: a room on one conference Wi-Fi shares an address.
A client that drops its cookie becomes a new visitor with a full bucket, but it still meets the
global caps (MAX_SANDBOXES, MAX_STARTING) and, where a visitor's calls leave something behind or
guess at a secret, a bucket of all visitors together (shares, presenter token tries); rate
limiting by address belongs to the reverse proxy (docs/security.md).
"""

import math
import threading
import time

from .errors import PlaygroundError


class Bucket:
    __slots__ = ("tokens", "stamp")

    def __init__(self, tokens: float, stamp: float):
        self.tokens = tokens
        self.stamp = stamp


EVERYONE = ""  # the key of a limit on all visitors together
# Added to when a bucket has a token again, rounded up to a tenth: a client that waits exactly
# `retry_after` must find one, not a hair too few.
RETRY_MARGIN = 0.05


class RateLimit:
    """`rate` tokens per second, up to `burst` saved; one per call of `take`."""

    def __init__(
        self,
        what: str,
        rate: float,
        burst: int,
        per: str,
        max_keys: int = 100_000,
        everyone: bool = False,
    ):
        self.what = what  # "runs", "requests": for the message
        self.per = per  # "minute" or "second": for the message
        self.everyone = everyone  # one bucket for all visitors together: for the message
        self.rate = rate
        self.burst = burst
        self.max_keys = max_keys
        self._buckets: dict[str, Bucket] = {}
        self._lock = threading.Lock()

    def take(self, key: str, cost: float = 1) -> None:
        """Spend `cost` tokens of `key`'s bucket, or raise a 429 PlaygroundError."""
        now = time.monotonic()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= self.max_keys:
                    self._make_room(now)
                bucket = self._buckets[key] = Bucket(self.burst, now)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate)
            bucket.stamp = now
            if bucket.tokens >= cost:
                bucket.tokens -= cost
                return
            wait = math.ceil(((cost - bucket.tokens) / self.rate + RETRY_MARGIN) * 10) / 10
        per_unit = self.rate * (60 if self.per == "minute" else 1)
        if self.everyone:
            message = (
                f"the playground takes {per_unit:g} {self.what} a {self.per} from all "
                f"visitors together (and {self.burst} at once), and that many came"
            )
        else:
            message = (
                f"slow down: you may send {per_unit:g} {self.what} a {self.per} (and "
                f"{self.burst} at once)"
            )
        raise PlaygroundError(
            429,
            "rate_limited",
            f"{message}. Try again in {wait:.1f} s.",
            retry_after=wait,
        )

    def give_back(self, key: str, cost: float = 1) -> None:
        """Return `cost` tokens taken for a call that was refused for another reason."""
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is not None:
                bucket.tokens = min(self.burst, bucket.tokens + cost)

    def _make_room(self, now: float) -> None:
        """Forget the buckets that have refilled (a new bucket equals them) and, if that is not
        enough, the longest unused, down to 3/4 of max_keys: memory stays bounded however many
        keys a script makes up, and this scan is paid once per max_keys/4 new keys. A visitor's
        bucket is lost only to a quarter of max_keys new keys between two of their calls."""
        kept = [
            (key, bucket)
            for key, bucket in self._buckets.items()
            if bucket.tokens + (now - bucket.stamp) * self.rate < self.burst
        ]
        room = self.max_keys * 3 // 4
        if len(kept) > room:
            kept.sort(key=lambda item: item[1].stamp)
            kept = kept[len(kept) - room :]
        self._buckets = dict(kept)


def for_app(settings: dict) -> dict[str, RateLimit]:
    """The playground's limits, by what they count."""
    return {
        "runs": RateLimit(
            "runs", settings["RATE_RUNS_PER_MINUTE"] / 60, settings["RATE_RUN_BURST"], "minute"
        ),
        "requests": RateLimit(
            "requests",
            settings["RATE_REQUESTS_PER_SECOND"],
            settings["RATE_REQUEST_BURST"],
            "second",
        ),
        "commands": RateLimit(
            "commands",
            settings["RATE_COMMANDS_PER_MINUTE"] / 60,
            settings["RATE_COMMAND_BURST"],
            "minute",
        ),
        "shares": RateLimit(
            "shares",
            settings["RATE_SHARES_PER_MINUTE"] / 60,
            settings["RATE_SHARE_BURST"],
            "minute",
        ),
        # The editor asks after each pause in typing; a script asking in a loop would keep the
        # text workers busy for everyone (workers.py).
        "highlights": RateLimit(
            "highlights",
            settings["RATE_HIGHLIGHTS_PER_SECOND"],
            settings["RATE_HIGHLIGHT_BURST"],
            "second",
        ),
        # Past TEXT_FREE_BYTES, the text sent to be highlighted or formatted is counted for
        # all visitors together: a script dropping its cookie would otherwise have the host
        # parse megabytes of JSON a second.
        "text_bytes": RateLimit(
            "bytes of large texts to highlight or format",
            settings["TEXT_BYTES_PER_SECOND"],
            settings["TEXT_BYTES_BURST"],
            "second",
            everyone=True,
        ),
        "formats": RateLimit(
            "formattings",
            settings["RATE_FORMATS_PER_MINUTE"] / 60,
            settings["RATE_FORMAT_BURST"],
            "minute",
        ),
        # Per visitor and for all together, as a script that drops its cookie is a new visitor
        # each time: shares are kept on disk, and the token is a secret to guess.
        "all_shares": RateLimit(
            "shares",
            settings["RATE_ALL_SHARES_PER_MINUTE"] / 60,
            settings["RATE_ALL_SHARE_BURST"],
            "minute",
            everyone=True,
        ),
        "presenter_tries": RateLimit(
            "tries of the presenter token",
            settings["RATE_PRESENTER_TRIES_PER_MINUTE"] / 60,
            settings["RATE_PRESENTER_TRY_BURST"],
            "minute",
        ),
        "all_presenter_tries": RateLimit(
            "tries of the presenter token",
            settings["RATE_ALL_PRESENTER_TRIES_PER_MINUTE"] / 60,
            settings["RATE_ALL_PRESENTER_TRY_BURST"],
            "minute",
            everyone=True,
        ),
    }
