"""A small blog: register, log in, write posts. Flask's own tutorial (flaskr), in brief."""
import os

from flask import Flask, flash, g, redirect, render_template, request, url_for

import auth
import db

app = Flask(__name__)
app.config.from_mapping(
    SECRET_KEY="dev",  # in real life: from the environment, and unguessable
    DATABASE=os.path.join(app.instance_path, "blog.sqlite"),
)
os.makedirs(app.instance_path, exist_ok=True)
db.init_app(app)
app.register_blueprint(auth.bp)


@app.route("/")
def index():
    posts = db.get_db().execute(
        "SELECT post.id, title, body, created, username FROM post"
        " JOIN user ON post.author_id = user.id ORDER BY created DESC, post.id DESC"
    ).fetchall()
    return render_template("index.html", posts=posts)


@app.route("/create", methods=["GET", "POST"])
@auth.login_required
def create():
    if request.method == "POST":
        title = request.form.get("title", "").strip()
        body = request.form.get("body", "")
        if not title:
            flash("A post needs a title.")
        else:
            database = db.get_db()
            database.execute("INSERT INTO post (title, body, author_id) VALUES (?, ?, ?)",
                             (title, body, g.user["id"]))
            database.commit()
            flash("Posted.")
            return redirect(url_for("index"))
    return render_template("create.html")


app.run(host="0.0.0.0", port=5000)
