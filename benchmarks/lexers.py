"""Each lexer the page asks for, on hostile texts: seconds at two sizes, and whether the time
grows faster than the text (the figures behind highlight.py's SLOW_LEXERS and its repairs).

    python benchmarks/lexers.py [languages, default all] [sizes, default 20000,80000]

A text is one short pattern repeated (`&&&...`, `<!--<!--...`, `a:a:...`): the shapes that make
a regular-expression lexer rescan the rest of the text at every start. Each highlighting runs in
this process (render(), Pygments itself, with the repairs) and is cut off after 15 s. Other
work on the machine can make a linear lexer look superlinear: re-run a flagged language alone.
"""

import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from playground import highlight  # noqa: E402

LANGUAGES = ["http", "pytb", "python", "html", "html+jinja", "json", "css", "javascript"]
PATTERNS = [
    "a",
    "a\n",
    "a:",
    '"',
    "'",
    '"""',
    "\\",
    "{",
    "[",
    "(",
    "<",
    "<a ",
    "<!--",
    "<?",
    "<![CDATA[",
    '<a x="',
    "<script>\n",
    "&",
    "&#",
    "{{",
    "{%",
    "{#",
    "{% raw %}",
    "/*",
    "/",
    "`",
    "${",
    "f'{",
    "#",
    "1e",
    "url(",
    "@",
    "-",
    "=",
    "*",
    ".",
    "é",
    '  File "x", line 5,\n',
    "Traceback (most recent call last):\n",
]
CUTOFF = 15


class TooSlow(Exception):
    pass


def cut_off(signum, frame):
    raise TooSlow


def seconds(text: str, language: str) -> float | None:
    """How long render() takes at best of up to three runs (other work on the machine only
    adds), or None past CUTOFF."""
    best = None
    for _ in range(3):
        signal.alarm(CUTOFF)
        started = time.perf_counter()
        try:
            highlight.render(text, language)
        except TooSlow:
            return None
        finally:
            signal.alarm(0)
        took = time.perf_counter() - started
        best = took if best is None else min(best, took)
        if took > 1:
            break
    return best


def main() -> None:
    languages = sys.argv[1].split(",") if len(sys.argv) > 1 else LANGUAGES
    sizes = [int(n) for n in sys.argv[2].split(",")] if len(sys.argv) > 2 else [20_000, 80_000]
    signal.signal(signal.SIGALRM, cut_off)
    print(f"{'language':<12}{'pattern':<28}" + "".join(f"{n:>10,}" for n in sizes) + "   growth")
    for language in languages:
        for pattern in PATTERNS:
            times = [seconds((pattern * (n // len(pattern) + 1))[:n], language) for n in sizes]
            cells = "".join(
                f"{t:>9.3f}s" if t is not None else f"{'>' + str(CUTOFF):>9}s" for t in times
            )
            if None in times:
                growth = "too slow"
            else:
                ratio = (times[-1] / max(times[0], 1e-4)) / (sizes[-1] / sizes[0])
                growth = "superlinear" if ratio > 2 and times[-1] > 0.1 else ""
            print(f"{language:<12}{pattern!r:<28}{cells}   {growth}", flush=True)


if __name__ == "__main__":
    main()
