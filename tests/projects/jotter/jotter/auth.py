import functools

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from werkzeug.security import check_password_hash, generate_password_hash

from .db import get_db

bp = Blueprint("auth", __name__, url_prefix="/auth")


def login_required(view):
    @functools.wraps(view)
    def wrapped(**kwargs):
        if g.writer is None:
            return redirect(url_for("auth.login"))
        return view(**kwargs)

    return wrapped


@bp.before_app_request
def load_writer():
    writer_id = session.get("writer_id")
    g.writer = (
        None
        if writer_id is None
        else get_db().execute("SELECT * FROM writer WHERE id = ?", (writer_id,)).fetchone()
    )


@bp.route("/register", methods=("GET", "POST"))
def register():
    if request.method == "POST":
        name, password = request.form["name"], request.form["password"]
        error = (
            "A name is needed." if not name else "A password is needed." if not password else None
        )
        if error is None:
            try:
                db = get_db()
                db.execute(
                    "INSERT INTO writer (name, password) VALUES (?, ?)",
                    (name, generate_password_hash(password)),
                )
                db.commit()
            except db.IntegrityError:
                error = f"{name} has a notebook already."
            else:
                return redirect(url_for("auth.login"))
        flash(error)
    return render_template("auth/register.html")


@bp.route("/login", methods=("GET", "POST"))
def login():
    if request.method == "POST":
        name, password = request.form["name"], request.form["password"]
        writer = get_db().execute("SELECT * FROM writer WHERE name = ?", (name,)).fetchone()
        if writer is None or not check_password_hash(writer["password"], password):
            flash("That name and password do not match.")
        else:
            session.clear()
            session["writer_id"] = writer["id"]
            return redirect(url_for("index"))
    return render_template("auth/login.html")


@bp.route("/logout")
def logout():
    session.clear()
    return redirect(url_for("index"))
