"""Every use of Pygments: code, tracebacks and response bodies become HTML here.

Other modules pass plain text and a language; only this module knows lexers,
formatters and styles (HTTPie keeps Pygments in one module the same way).

Pygments can take minutes on hostile text, holding the GIL, so `highlight_or_plain()` runs it in
a text worker (workers.py) within a deadline (HIGHLIGHT_TIMEOUT), and answers plain escaped text
past that. Lexers
found quadratic or looping on such text are repaired here; SLOW_LEXERS caps the rest.
"""

from functools import lru_cache
from html import escape
from typing import NamedTuple, cast

from pygments import highlight as _pygments_highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import DelegatingLexer, Lexer
from pygments.lexers import TextLexer, get_lexer_by_name, get_lexer_for_mimetype
from pygments.lexers.html import HtmlLexer as PygmentsHtmlLexer
from pygments.lexers.python import PythonTracebackLexer
from pygments.lexers.templates import DjangoLexer, HtmlDjangoLexer
from pygments.util import ClassNotFound

from . import workers

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
# both cost more than highlighting a request head, so they are made once. Each text worker has
# one thread, and the snippet notes are rendered once at start-up, so nothing shares a lexer
# across threads (the HTTP lexer keeps state during a call).
_FORMATTER = HtmlFormatter(nowrap=True)


def _rewritten(
    tokens: dict[str, list[object]], patterns: dict[str, str]
) -> dict[str, list[object]]:
    """A lexer's token rules with some regular expressions replaced: {old: new}. Fails at
    import when one is missing, so a new Pygments cannot silently undo a repair."""
    found = {rule[0] for rules in tokens.values() for rule in rules if isinstance(rule, tuple)}
    if missing := set(patterns) - found:
        raise RuntimeError(f"Pygments' rules changed, review the repairs of {sorted(missing)}")
    return {
        state: [
            (patterns.get(rule[0], rule[0]), *rule[1:]) if isinstance(rule, tuple) else rule
            for rule in rules
        ]
        for state, rules in tokens.items()
    }


class TracebackLexer(PythonTracebackLexer):
    """Pygments' traceback lexer, without its endless loop.

    Its root state enters a traceback on a look-ahead for `  File "x", line 5`, and its
    traceback state pops straight back out of a line it cannot read, such as the half-printed
    `  File "x", line 5,` that a live log shows: round and round, for ever, at the same place.
    A visitor can print that line. Here the look-ahead asks for a whole File line.
    """

    tokens = _rewritten(
        PythonTracebackLexer.tokens,
        {
            r'^(?=  File "[^"]+", line \d+)': r'^(?=  File "[^"]+", line \d+(, in .+)?\n)',
        },
    )


class HtmlLexer(PygmentsHtmlLexer):
    """Pygments' HTML lexer, in linear time.

    Its rules for entities, comments, CDATA, `<?...?>`, `<!...>`, quoted attributes and script
    and style content scan ahead for their end; where it never comes, each later start scans to
    the end of the text again: `&&&...` or `<!--<!--...` take quadratic time (2.4 s for 20 KB,
    over 15 s for 80 KB). Here an entity stops at the next `&` or space, and the others, left
    unclosed, run to the end of the text, as a browser reads them.
    """

    tokens = _rewritten(
        PygmentsHtmlLexer.tokens,
        {
            r"&\S*?;": r"&[^\s&;<]*;",
            r"\<\!\[CDATA\[.*?\]\]\>": r"\<\!\[CDATA\[.*?(?:\]\]\>|\Z)",
            r"<!--.*?-->": r"<!--.*?(?:-->|\Z)",
            r"<\?.*?\?>": r"<\?.*?(?:\?>|\Z)",
            "<![^>]*>": r"<![^>]*(?:>|\Z)",
            '".*?"': r'".*?(?:"|\Z)',
            "'.*?'": r"'.*?(?:'|\Z)",
            r".+?(?=<\s*/\s*script\s*>)": r".+?(?=<\s*/\s*script\s*>|\Z)",
            r".+?(?=<\s*/\s*style\s*>)": r".+?(?=<\s*/\s*style\s*>|\Z)",
        },
    )


class JinjaLexer(DjangoLexer):
    """Pygments' Jinja lexer, in linear time: comments and `{% raw %}` blocks left unclosed run
    to the end of the text, instead of every later `{#` scanning to the end again (`{#{#...`:
    13 s for 80 KB)."""

    tokens = _rewritten(
        DjangoLexer.tokens,
        {
            r"\{#.*?#\}": r"\{#.*?(?:#\}|\Z)",
            r"(\{%)(-?\s*)(comment)(\s*-?)(%\})(.*?)(\{%)(-?\s*)(endcomment)(\s*-?)(%\})": (
                r"(\{%)(-?\s*)(comment)(\s*-?)(%\})(.*?)(?:(\{%)(-?\s*)(endcomment)(\s*-?)(%\})|\Z)"
            ),
            r"(\{%)(-?\s*)(raw)(\s*-?)(%\})(.*?)(\{%)(-?\s*)(endraw)(\s*-?)(%\})": (
                r"(\{%)(-?\s*)(raw)(\s*-?)(%\})(.*?)(?:(\{%)(-?\s*)(endraw)(\s*-?)(%\})|\Z)"
            ),
        },
    )


class HtmlJinjaLexer(HtmlDjangoLexer):
    """Pygments' HTML+Jinja lexer, made of the linear lexers above."""

    def __init__(self, **options: object) -> None:
        DelegatingLexer.__init__(self, HtmlLexer, JinjaLexer, **options)


#: Pygments lexers replaced by a repaired one, whether asked for by name or by MIME type.
REPAIRED: dict[type[Lexer], type[Lexer]] = {
    PythonTracebackLexer: TracebackLexer,
    PygmentsHtmlLexer: HtmlLexer,
    DjangoLexer: JinjaLexer,
    HtmlDjangoLexer: HtmlJinjaLexer,
}

#: The longest a MIME type can be (RFC 6838: 127 characters on each side of the slash).
MIME_TYPE_MAX = 255

#: Lexers that are slow on some texts of a size a visitor may send, and the most characters
#: each is given; longer texts are shown plain at once. Measured by benchmarks/lexers.py:
#: HTTP is quadratic in a line without a colon (20 KB of "a": 2.4 s; 8 KB: 0.4 s).
SLOW_LEXERS = {"HTTP": 8_000}


def get_lexer(language: str) -> Lexer:
    """A lexer for a language name or a MIME type, plain text when unknown."""
    name = (language or "").split(";", 1)[0].strip().lower()
    return _lexer(name if len(name) <= MIME_TYPE_MAX else "")


@lru_cache(maxsize=64)
def _lexer(name: str) -> Lexer:
    try:
        if name in LANGUAGES:
            lexer = get_lexer_by_name(LANGUAGES[name])
        else:
            lexer = get_lexer_for_mimetype(name)
    except ClassNotFound:
        lexer = TextLexer()
    return REPAIRED.get(type(lexer), type(lexer))(stripnl=False, ensurenl=False)


def render(code: str, language: str) -> str:
    """Highlighted HTML for `code`, here and now, however long it takes: for the workers (and
    our own snippet notes). Anything else calls `highlight_or_plain()`.

    Spans only, one output line per input line: Pygments closes every span at the end of a
    line, so the caller may split the result on newlines and get balanced HTML for each line
    (the editor repaints single lines while a fresh highlight is on its way).
    """
    html = _pygments_highlight(code, get_lexer(language), _FORMATTER)
    # The formatter ends its last line with a newline even when the text does not.
    if not code.endswith("\n") and html.endswith("\n"):
        html = html[:-1]
    return html


class Highlighted(NamedTuple):
    html: str
    #: None, or why the text is plain: "too_large" (for a slow lexer), "timeout", "busy", "failed"
    fallback: str | None = None


def plain(code: str) -> str:
    """`code` as escaped text in the shape `render()` gives: one line of HTML per line (Pygments
    reads a lone CR as a line break too)."""
    return escape(code.replace("\r\n", "\n").replace("\r", "\n"))


def highlight_or_plain(code: str, language: str, pool: workers.Pool, timeout: float) -> Highlighted:
    """`code` highlighted within `timeout` seconds in one of `pool`'s worker processes, or plain
    when the time runs out or its lexer is known to be too slow for its size."""
    limit = SLOW_LEXERS.get(get_lexer(language).name)
    if limit is not None and len(code) > limit:
        return Highlighted(plain(code), "too_large")
    try:
        html = pool.run("playground.highlight:render", code, language, timeout=timeout)
        return Highlighted(cast(str, html))  # what render() returns
    except workers.Unavailable as error:
        return Highlighted(plain(code), error.reason)


def stylesheet() -> str:
    """CSS for highlighted HTML in both themes: token colours only, since the
    page paints its own backgrounds and base text colour per theme."""
    rules = []
    for theme, style in THEME_STYLES.items():
        prefix = f"html[data-theme={theme}] .{CSS_CLASS}"
        rules.extend(HtmlFormatter(style=style).get_token_style_defs(prefix))
    return "\n".join(rules) + "\n"
