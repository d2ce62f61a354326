from flask import Flask, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


app = Flask(__name__)
# A SQLite file in the app's instance folder (instance/notes.db): relative paths go there.
app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///notes.db"
db = SQLAlchemy(app, model_class=Base)


class Note(db.Model):
    """A table, as a class: each attribute a column."""
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(db.String(200))
    done: Mapped[bool] = mapped_column(default=False)

    def to_json(self):
        return {"id": self.id, "text": self.text, "done": self.done}


with app.app_context():  # the database belongs to an app: create its tables in its context
    db.create_all()


@app.get("/notes")
def list_notes():
    notes = db.session.execute(db.select(Note).order_by(Note.id)).scalars()
    return [note.to_json() for note in notes]


@app.post("/notes")
def add_note():
    note = Note(text=request.form["text"])
    db.session.add(note)
    db.session.commit()  # nothing is written until the commit
    return note.to_json(), 201


@app.get("/notes/<int:note_id>")
def get_note(note_id):
    return db.get_or_404(Note, note_id).to_json()


@app.post("/notes/<int:note_id>/done")
def finish_note(note_id):
    note = db.get_or_404(Note, note_id)
    note.done = True
    db.session.commit()
    return note.to_json()


app.run()
