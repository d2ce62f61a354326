"""highlight.py: lexer choice, one line of HTML per line of text, the themed stylesheet, and
highlighting inside a budget (real worker processes, killed past the deadline)."""

import json
import os
import signal
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from playground import create_app, highlight
from playground.services import services_of
from tests.servers import worker_processes


def budgeted(app, code, language):
    """`highlight_or_plain` as the app's /api/highlight calls it: its workers, its deadline."""
    pool = services_of(app).text_workers
    return highlight.highlight_or_plain(code, language, pool, app.config["HIGHLIGHT_TIMEOUT"])


@pytest.mark.parametrize(
    "language, lexer",
    [
        ("python", "Python"),
        ("pytb", "Python Traceback"),
        ("html+jinja", "HTML+Django/Jinja"),
        ("jinja", "HTML+Django/Jinja"),
        ("css", "CSS"),
        ("js", "JavaScript"),
        ("json", "JSON"),
        ("text/html; charset=utf-8", "HTML"),
        ("application/json", "JSON"),
        ("application/x-made-up", "Text only"),
        ("cobol", "Text only"),  # not on the list: plain text, never an arbitrary lexer
        ("", "Text only"),
    ],
)
def test_lexer_choice(language, lexer):
    assert highlight.get_lexer(language).name == lexer


@pytest.mark.parametrize(
    "code",
    [
        'def f():\n    """a\n    docstring"""\n    return 1\n',
        "x = 1",
        "\n\n",
        "s = '''one\ntwo\nthree'''\n",
    ],
)
def test_one_balanced_line_of_html_per_line_of_text(code):
    lines = highlight.render(code, "python").split("\n")
    assert len(lines) == len(code.split("\n"))
    for line in lines:
        assert line.count("<span") == line.count("</span>")


def test_html_is_escaped():
    assert "&lt;script&gt;" in highlight.render("<script>alert(1)</script>", "text")


def test_stylesheet_has_both_themes():
    css = highlight.stylesheet()
    assert "html[data-theme=light] .hl .k" in css
    assert "html[data-theme=dark] .hl .k" in css


TRACEBACK = """Traceback (most recent call last):
  File "/usr/lib/python3/site-packages/flask/app.py", line 1511, in wsgi_app
    response = self.full_dispatch_request()
               ^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "app.py", line 11, in session_example
    g["number_of_calls"] += 1
    ~^^^^^^^^^^^^^^^^^^
TypeError: '_AppCtxGlobals' object is not subscriptable
"""


class Endless(Exception):
    pass


@pytest.fixture
def deadline():
    """Fail, instead of hanging the suite, if highlighting one text takes seconds (a loop)."""

    def expire(signum, frame):
        raise Endless("highlighting did not finish")

    previous = signal.signal(signal.SIGALRM, expire)
    yield lambda: signal.alarm(5)
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("language", sorted(set(highlight.LANGUAGES)))
def test_every_prefix_of_a_traceback_finishes(app, deadline, language):
    """Pygments' own traceback lexer loops for ever on `  File "x", line 5,` (a line the live
    log shows half printed, or any visitor can print): each prefix must finish."""
    for cut in range(len(TRACEBACK) + 1):
        deadline()
        # In a worker, a loop would end in a plain fallback at the deadline: that fails too.
        assert budgeted(app, TRACEBACK[:cut], language).fallback is None
    assert '<span class="gt">Traceback' in budgeted(app, TRACEBACK, "pytb").html


# -- the budget ----------------------------------------------------------------------------------


def test_the_quadratic_http_input_answers_at_once_as_escaped_text(app, client):
    """1 MB without a colon took Pygments' HTTP lexer minutes, holding the host's GIL."""
    code = "a" * (app.config["MAX_BODY_BYTES"] - 3) + "<&>"
    started = time.monotonic()
    response = client.post("/api/highlight", json={"code": code, "language": "http"})
    assert time.monotonic() - started < 2 * app.config["HIGHLIGHT_TIMEOUT"]
    assert response.status_code == 200
    assert response.json == {"html": code[:-3] + "&lt;&amp;&gt;", "fallback": "too_large"}


@pytest.fixture(scope="module")
def quick_app():
    """An app whose highlighting deadline is short enough for a merely slow text to pass it."""
    app = create_app({"TESTING": True, "HIGHLIGHT_TIMEOUT": 0.3, "TEXT_WORKERS": 1})
    yield app
    pool = services_of(app).text_workers
    pids = pool.pids()
    pool.shutdown()
    assert not set(pids) & set(worker_processes(os.getpid())), "a text worker outlived its app"


def test_past_the_deadline_the_worker_is_replaced_and_the_text_is_plain(quick_app):
    pool = services_of(quick_app).text_workers
    first = pool.run("os:getpid", timeout=30)  # started: its start-up is no call's time
    assert budgeted(quick_app, "x = 1", "python").fallback is None
    code = "a:<\n\r" * 200_000  # about 8 s of Pygments' Python lexer
    started = time.monotonic()
    result = budgeted(quick_app, code, "python")
    assert time.monotonic() - started < 2 * 0.3 + 1
    assert result.fallback == "timeout"
    assert result.html == "a:&lt;\n\n" * 200_000  # escaped, one line per line
    assert first not in worker_processes(os.getpid()), "the worker past its deadline lives"
    # Its replacement started at once; calls meanwhile are "busy", never killed.
    for _ in range(100):
        result = budgeted(quick_app, "x = 1", "python")
        if result.fallback != "busy":
            break
    assert result == (
        '<span class="n">x</span> <span class="o">=</span> <span class="mi">1</span>',
        None,
    )
    assert pool.pids() != [first]


@pytest.mark.parametrize("code", ["a\r\nb\rc\n", "<b>&amp;</b>\n\n'\"", "\n", ""])
def test_plain_text_has_the_shape_of_highlighted_text(code):
    lines = highlight.plain(code).split("\n")
    assert len(lines) == len(highlight.render(code, "text").split("\n"))
    assert "<" not in highlight.plain(code) and '"' not in highlight.plain(code)


@pytest.mark.parametrize(
    "language, text",
    [
        ("html", "&" * 200_000),  # each & looked for its ; to the end: 2.4 s for 20 KB
        ("html", "<!--" * 50_000),
        ("html", '<a x="' * 40_000),
        ("html", "<script>\n" * 25_000),
        ("jinja", "{#" * 100_000),
        ("jinja", "{% raw %}" * 25_000),
        ("text/html", "&" * 200_000),  # by MIME type too
    ],
)
def test_repaired_lexers_take_linear_time(deadline, language, text):
    """Highlighted in this process: the repair, not the deadline, must make these quick."""
    deadline()
    lines = highlight.render(text, language).split("\n")
    assert len(lines) == len(text.split("\n"))


def test_every_way_to_a_repaired_lexer_gets_the_repair():
    assert type(highlight.get_lexer("text/x-python-traceback")) is highlight.TracebackLexer
    assert type(highlight.get_lexer("application/xhtml+xml")) is highlight.HtmlLexer
    assert type(highlight.get_lexer("text/html+jinja")) is highlight.HtmlJinjaLexer


def test_a_language_longer_than_any_mime_type_is_plain_text():
    assert highlight.get_lexer("text/html" + " " * 300 + "x").name == "Text only"


def test_hostile_highlights_in_parallel_leave_the_host_answering(live_server):
    """20 clients post texts that are slow to highlight, all at once, while GET / is asked: every
    highlight answers (plain past the budget) and so does the page. benchmarks/highlight.py
    measures how fast."""
    hostile = [("a" * 1_000_000, "http"), ("a:" * 100_000, "python"), ("&" * 500_000, "html")]

    def post(code, language):
        request = urllib.request.Request(
            live_server + "/api/highlight",
            method="POST",
            data=json.dumps({"code": code, "language": language}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.load(response)

    with ThreadPoolExecutor(20) as clients:
        answers = [clients.submit(post, *hostile[i % len(hostile)]) for i in range(20)]
        time.sleep(0.5)
        with urllib.request.urlopen(live_server + "/", timeout=30) as page:
            assert page.status == 200 and b"<html" in page.read()
        for i, answer in enumerate(answers):
            code, language = hostile[i % len(hostile)]
            reply = answer.result()
            if reply["fallback"]:
                assert reply["fallback"] in ("too_large", "timeout", "busy")
                assert reply["html"] == highlight.plain(code)
            else:  # a fast worker may finish the Python in time
                assert reply["html"].count("\n") == code.count("\n")
    assert post("x = 1", "python") == {
        "html": '<span class="n">x</span> <span class="o">=</span> <span class="mi">1</span>',
        "fallback": None,
    }
