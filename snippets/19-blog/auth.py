"""Register, log in and out. Who is logged in lives in the session; the user row in g."""
import functools
import sqlite3

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from werkzeug.security import check_password_hash, generate_password_hash

from db import get_db

bp = Blueprint("auth", __name__, url_prefix="/auth")


@bp.before_app_request
def load_logged_in_user():
    user_id = session.get("user_id")
    g.user = None
    if user_id is not None:
        g.user = get_db().execute("SELECT * FROM user WHERE id = ?", (user_id,)).fetchone()


def login_required(view):
    @functools.wraps(view)
    def wrapped_view(**kwargs):
        if g.user is None:
            return redirect(url_for("auth.login"))
        return view(**kwargs)
    return wrapped_view


@bp.route("/register", methods=["GET", "POST"])
def register():
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        if not username or not password:
            flash("Username and password are required.")
        else:
            try:
                database = get_db()
                database.execute("INSERT INTO user (username, password) VALUES (?, ?)",
                                 (username, generate_password_hash(password)))
                database.commit()
            except sqlite3.IntegrityError:
                flash(f"User {username} is already registered.")
            else:
                flash("Registered. Now log in.")
                return redirect(url_for("auth.login"))
    return render_template("auth.html", action="Register")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "POST":
        username = request.form.get("username", "")
        user = get_db().execute("SELECT * FROM user WHERE username = ?", (username,)).fetchone()
        if user is None or not check_password_hash(user["password"], request.form.get("password", "")):
            flash("Incorrect username or password.")
        else:
            session.clear()
            session["user_id"] = user["id"]
            return redirect(url_for("index"))
    return render_template("auth.html", action="Log In")


@bp.route("/logout")
def logout():
    session.clear()
    return redirect(url_for("index"))
