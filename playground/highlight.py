"""Every use of Pygments: code, tracebacks and response bodies become HTML here.

Other modules pass plain text and a language; only this module knows lexers,
formatters and styles (HTTPie keeps Pygments in one module the same way).
"""

from functools import lru_cache

from pygments import highlight as _pygments_highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import TextLexer, get_lexer_by_name, get_lexer_for_mimetype
from pygments.lexers.python import PythonTracebackLexer
from pygments.token import Generic
from pygments.util import ClassNotFound

#: The lexers the page may ask for by name; anything else is plain text.
LANGUAGES = {
    "python": "python",
    "pytb": "pytb",  # a Python traceback
    "html": "html",
    "html+jinja": "html+jinja",
    "jinja": "html+jinja",
    "css": "css",
    "javascript": "javascript",
    "js": "javascript",
    "json": "json",
    "http": "http",
    "text": "text",
}

#: Pygments styles for the page's two themes, scoped by `html[data-theme=...]`.
THEME_STYLES = {"light": "default", "dark": "github-dark"}

#: The CSS class on the element that holds highlighted HTML.
CSS_CLASS = "hl"


# Building a formatter computes its whole stylesheet, and finding a lexer scans a registry:
# both cost more than highlighting a request head, so they are made once. Neither keeps state
# between calls, so threads may share them.
_FORMATTER = HtmlFormatter(nowrap=True)


class TracebackLexer(PythonTracebackLexer):
    """Pygments' traceback lexer, without its endless loop.

    Its root state enters a traceback on a look-ahead for `  File "x", line 5`, and its
    traceback state pops straight back out of a line it cannot read, such as the half-printed
    `  File "x", line 5,` that a live log shows: round and round, for ever, at the same place.
    A visitor can print that line. Here the look-ahead asks for a whole File line.
    """

    tokens = {
        **PythonTracebackLexer.tokens,
        "root": [
            (r'^(?=  File "[^"]+", line \d+(, in .+)?\n)', Generic.Traceback, "intb")
            if isinstance(rule[0], str) and rule[0].startswith("^(?=  File") else rule
            for rule in PythonTracebackLexer.tokens["root"]
        ],
    }


@lru_cache(maxsize=64)
def get_lexer(language):
    """A lexer for a language name or a MIME type, plain text when unknown."""
    language = (language or "").strip().lower()
    if language == "pytb":
        return TracebackLexer(stripnl=False, ensurenl=False)
    if language in LANGUAGES:
        return get_lexer_by_name(LANGUAGES[language], stripnl=False, ensurenl=False)
    mimetype = language.split(";", 1)[0].strip()
    try:
        return get_lexer_for_mimetype(mimetype, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return TextLexer(stripnl=False, ensurenl=False)


def highlight(code, language):
    """Highlighted HTML for `code`: spans only, one output line per input line.

    Pygments closes every span at the end of a line, so the caller may split
    the result on newlines and get balanced HTML for each line (the editor
    repaints single lines while a fresh highlight is on its way).
    """
    html = _pygments_highlight(code, get_lexer(language), _FORMATTER)
    # The formatter ends its last line with a newline even when the text does not.
    if not code.endswith("\n") and html.endswith("\n"):
        html = html[:-1]
    return html


def stylesheet():
    """CSS for highlighted HTML in both themes: token colours only, since the
    page paints its own backgrounds and base text colour per theme."""
    rules = []
    for theme, style in THEME_STYLES.items():
        prefix = f"html[data-theme={theme}] .{CSS_CLASS}"
        rules.extend(HtmlFormatter(style=style).get_token_style_defs(prefix))
    return "\n".join(rules) + "\n"
