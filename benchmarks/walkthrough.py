"""Runs a minute that real use makes, counted in a real browser against a real playground, to
set RATE_RUNS_PER_MINUTE and RATE_RUN_BURST from (a run is a POST or PUT of a sandbox):

- a person clicking through the whole library quickly: each snippet opened, run, and its first
  suggested request sent (or each of them, the slower, thorough way), with `--pause` seconds
  between clicks, and once with none: the fastest anyone could click, which the rate should let
  through in a burst;
- someone typing with watch mode on (a presenter, or an attendee following along): a route typed
  at `--cps` characters a second, with a pause after each line, then after each word (a hesitant
  typist: the worst case, since watch mode runs after every pause of 0.7 s).

    python benchmarks/walkthrough.py [--pause 1.0] [--cps 6]

Nothing here is refused: the server it starts has the run rate lifted, to count what is asked.
"""

import argparse
import re
import sys
import time
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.servers import start_server, stop_server  # noqa: E402

RUN = re.compile(r"/api/sandboxes(/[^/?]+)?$")
SETTLED = re.compile(r"running on port \d+|failed|stopped")
ROUTE = [
    '@app.route("/about/<name>")',
    "def about(name):",
    'return f"<h1>About {name}</h1><p>Typed live, with watch mode on.</p>"',
]


class Runs:
    """Every run the page asks for, with when."""

    def __init__(self, page):
        self.times = []
        page.on(
            "request",
            lambda r: (
                self.times.append(time.monotonic())
                if r.method in ("POST", "PUT") and RUN.search(r.url)
                else None
            ),
        )

    def since(self, start: float) -> int:
        return sum(1 for t in self.times if t >= start)

    def busiest_minute(self, start: float) -> int:
        """The most runs in any 60 s window from `start` on (the per-minute rate's worst case)."""
        times = [t for t in self.times if t >= start]
        return max((sum(1 for u in times if t <= u < t + 60) for t in times), default=0)

    def burst(self, start: float, window: float = 10.0) -> int:
        times = [t for t in self.times if t >= start]
        return max((sum(1 for u in times if t <= u < t + window) for t in times), default=0)


def report(name: str, runs: Runs, start: float) -> None:
    minutes = (time.monotonic() - start) / 60
    count = runs.since(start)
    print(
        f"  {name:<58} {count:3d} runs in {minutes * 60:6.1f} s = "
        f"{count / minutes:6.1f} a minute; busiest 60 s: {runs.busiest_minute(start):3d}, "
        f"busiest 10 s: {runs.burst(start):3d}"
    )


def click_through(page, runs: Runs, pause: float, every_request: bool) -> None:
    page.goto("/")
    page.get_by_test_id("tour").get_by_role("button", name="Skip the tour").click()
    items = page.locator("[data-testid=snippet-item]")
    state = page.get_by_test_id("sandbox-state")
    start = time.monotonic()
    for index in range(items.count()):
        if index:
            page.keyboard.press("Alt+ArrowDown")
        expect(items.nth(index)).to_have_attribute("aria-current", "true")
        page.wait_for_timeout(pause * 1000)
        page.get_by_test_id("run-button").click()
        expect(state).to_have_text(SETTLED)
        chips = page.get_by_test_id("suggested-request")
        for chip in range(chips.count() if every_request else min(1, chips.count())):
            page.wait_for_timeout(pause * 1000)
            chips.nth(chip).click()
            expect(page.get_by_test_id("response-status")).not_to_have_text(re.compile("…$"))
    sent = "every suggested request" if every_request else "one request each"
    report(f"{items.count()} snippets, {sent}, {pause:g} s between clicks", runs, start)


def type_with_watch(page, runs: Runs, cps: float, by: str, pause: float) -> None:
    """Types ROUTE at `cps`, pausing `pause` s after each line (by="line") or word (by="word")."""
    page.goto("/#hello")
    editor = page.get_by_test_id("editor")
    expect(editor).to_be_visible()
    page.get_by_test_id("run-button").click()
    expect(page.get_by_test_id("sandbox-state")).to_have_text(SETTLED)
    page.get_by_test_id("request-path").fill("/about/Ada")
    page.get_by_test_id("send-button").click()
    page.get_by_test_id("watch-toggle").check()
    editor.evaluate("""ta => {
        const at = ta.value.indexOf('\\n', ta.value.indexOf("home page")) + 1;
        ta.focus(); ta.setSelectionRange(at, at); }""")
    start = time.monotonic()
    for _ in range(3):  # three routes' worth: long enough for a rate
        for line in ROUTE:
            pieces = re.findall(r"\S+\s*", line) if by == "word" else [line]
            for piece in pieces:
                page.keyboard.type(piece, delay=1000 / cps)
                if by == "word":
                    page.wait_for_timeout(pause * 1000)
            page.keyboard.press("Enter")
            if by == "line":
                page.wait_for_timeout(pause * 1000)
        page.keyboard.press("Enter")
    page.wait_for_timeout(1500)  # the last pause's run
    report(f"watch mode, {cps:g} chars/s, {pause:g} s pause after each {by}", runs, start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pause", type=float, default=1.0, help="seconds between clicks")
    parser.add_argument("--cps", type=float, default=6.0, help="characters typed a second")
    options = parser.parse_args()
    proc, url = start_server(
        env={"PLAYGROUND_RATE_RUNS_PER_MINUTE": "100000", "PLAYGROUND_RATE_RUN_BURST": "100000"}
    )
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", args=["--no-sandbox"]
            )
            print("runs a minute by one person (a run: POST or PUT /api/sandboxes)")
            screen = {"width": 1366, "height": 768}
            for pause, every_request in (
                (0.0, False),
                (options.pause, False),
                (options.pause, True),
            ):
                page = browser.new_context(base_url=url, viewport=screen).new_page()
                click_through(page, Runs(page), pause, every_request)
                page.context.close()
            for by, pause in (("line", 2.0), ("line", 1.0), ("word", 0.8)):
                page = browser.new_context(base_url=url, viewport=screen).new_page()
                type_with_watch(page, Runs(page), options.cps, by, pause)
                page.context.close()
            browser.close()
    finally:
        stop_server(proc)


if __name__ == "__main__":
    main()
