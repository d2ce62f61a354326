"""The database: one SQLite connection per request, kept in g and closed when it ends."""
import sqlite3

from flask import current_app, g


def get_db():
    if "db" not in g:
        g.db = sqlite3.connect(current_app.config["DATABASE"])
        g.db.row_factory = sqlite3.Row  # rows behave like dicts: row["title"]
    return g.db


def close_db(exception=None):
    database = g.pop("db", None)
    if database is not None:
        database.close()


def init_app(app):
    app.teardown_appcontext(close_db)
    with app.app_context(), app.open_resource("schema.sql", "r") as schema:
        get_db().executescript(schema.read())
