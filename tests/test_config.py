"""Every setting is in the docs, as config.py states it, and the environment sets each."""

from pathlib import Path

import pytest

from playground import config, create_app
from playground.services import services_of

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_the_settings_page_is_up_to_date():
    written = (DOCS / "settings.md").read_text()
    assert written == config.markdown(), f"run: {config.REGENERATE}"


def test_every_setting_has_a_help_text_and_appears_in_the_docs():
    docs = "".join(p.read_text() for p in DOCS.glob("*.md"))
    for name, (_default, help_text) in config.SETTINGS.items():
        assert help_text.strip().endswith((".", ")")), name
        assert f"`{name}`" in docs, name


@pytest.mark.parametrize(
    "value, expected", [("7", 7), ("0.5", 0.5), ("false", False), ("word", "word")]
)
def test_the_environment_sets_a_setting(monkeypatch, value, expected):
    monkeypatch.setenv("PLAYGROUND_RATE_RUN_BURST", value)
    app = create_app({"TESTING": True, "WARM_START": False})
    try:
        assert app.config["RATE_RUN_BURST"] == expected
    finally:
        services_of(app).sandboxes.shutdown()


def test_the_sandbox_flag_defers_to_the_environment(monkeypatch):
    """`python -m playground` without --sandbox keeps PLAYGROUND_SANDBOX_MODE."""
    from playground.__main__ import parser

    monkeypatch.setenv("PLAYGROUND_SANDBOX_MODE", "process")
    assert parser().parse_args([]).sandbox is None
