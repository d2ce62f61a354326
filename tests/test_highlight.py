"""highlight.py: lexer choice, one line of HTML per line of text, the themed stylesheet."""

import signal

import pytest

from playground import highlight


@pytest.mark.parametrize("language, lexer", [
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
])
def test_lexer_choice(language, lexer):
    assert highlight.get_lexer(language).name == lexer


@pytest.mark.parametrize("code", [
    'def f():\n    """a\n    docstring"""\n    return 1\n',
    "x = 1",
    "\n\n",
    "s = '''one\ntwo\nthree'''\n",
])
def test_one_balanced_line_of_html_per_line_of_text(code):
    lines = highlight.highlight(code, "python").split("\n")
    assert len(lines) == len(code.split("\n"))
    for line in lines:
        assert line.count("<span") == line.count("</span>")


def test_html_is_escaped():
    assert "&lt;script&gt;" in highlight.highlight("<script>alert(1)</script>", "text")


def test_stylesheet_has_both_themes():
    css = highlight.stylesheet()
    assert "html[data-theme=light] .hl .k" in css
    assert "html[data-theme=dark] .hl .k" in css


TRACEBACK = '''Traceback (most recent call last):
  File "/usr/lib/python3/site-packages/flask/app.py", line 1511, in wsgi_app
    response = self.full_dispatch_request()
               ^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "app.py", line 11, in session_example
    g["number_of_calls"] += 1
    ~^^^^^^^^^^^^^^^^^^
TypeError: '_AppCtxGlobals' object is not subscriptable
'''


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
def test_every_prefix_of_a_traceback_finishes(deadline, language):
    """Pygments' own traceback lexer loops for ever on `  File "x", line 5,` (a line the live
    log shows half printed, or any visitor can print): each prefix must finish."""
    for cut in range(len(TRACEBACK) + 1):
        deadline()
        highlight.highlight(TRACEBACK[:cut], language)
    assert '<span class="gt">Traceback' in highlight.highlight(TRACEBACK, "pytb")
