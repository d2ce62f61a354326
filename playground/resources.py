"""Where the page's files and the snippet catalog live.

In a source checkout they sit at the top of the repository; a wheel ships them inside the
package (see pyproject.toml). Look inside the package first.
"""

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def path(name: str) -> Path:
    """The directory `name` ("static", "templates" or "snippets")."""
    inside = _PACKAGE / "_data" / name
    return inside if inside.is_dir() else _PACKAGE.parent / name
