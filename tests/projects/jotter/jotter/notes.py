from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from .auth import login_required
from .db import get_db

bp = Blueprint("notes", __name__)


@bp.route("/")
def index():
    notes = (
        get_db()
        .execute(
            "SELECT note.id, title, text, writer_id, name FROM note"
            " JOIN writer ON note.writer_id = writer.id ORDER BY note.id DESC"
        )
        .fetchall()
    )
    return render_template("notes/index.html", notes=notes)


def note_of(id):
    note = get_db().execute("SELECT * FROM note WHERE id = ?", (id,)).fetchone()
    if note is None:
        abort(404, f"There is no note {id}.")
    if note["writer_id"] != g.writer["id"]:
        abort(403)
    return note


@bp.route("/new", methods=("GET", "POST"))
@login_required
def new():
    if request.method == "POST":
        if not request.form["title"]:
            flash("A title is needed.")
        else:
            db = get_db()
            db.execute(
                "INSERT INTO note (title, text, writer_id) VALUES (?, ?, ?)",
                (request.form["title"], request.form["text"], g.writer["id"]),
            )
            db.commit()
            return redirect(url_for("notes.index"))
    return render_template("notes/edit.html", note=None)


@bp.route("/<int:id>/edit", methods=("GET", "POST"))
@login_required
def edit(id):
    note = note_of(id)
    if request.method == "POST":
        db = get_db()
        db.execute(
            "UPDATE note SET title = ?, text = ? WHERE id = ?",
            (request.form["title"], request.form["text"], id),
        )
        db.commit()
        return redirect(url_for("notes.index"))
    return render_template("notes/edit.html", note=note)


@bp.route("/<int:id>/delete", methods=("POST",))
@login_required
def delete(id):
    note_of(id)
    db = get_db()
    db.execute("DELETE FROM note WHERE id = ?", (id,))
    db.commit()
    return redirect(url_for("notes.index"))
