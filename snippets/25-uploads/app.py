import os

from flask import Flask, abort, redirect, render_template, request, send_from_directory, url_for
from werkzeug.utils import secure_filename

app = Flask(__name__)
app.config["UPLOAD_FOLDER"] = os.path.join(app.instance_path, "uploads")
app.config["MAX_CONTENT_LENGTH"] = 512 * 1024  # bigger uploads get 413 Request Entity Too Large
ALLOWED = {"png", "jpg", "jpeg", "gif", "ico", "txt"}
os.makedirs(app.config["UPLOAD_FOLDER"], exist_ok=True)


@app.route("/")
def index():
    return render_template("index.html", files=sorted(os.listdir(app.config["UPLOAD_FOLDER"])))


@app.post("/upload")
def upload():
    picture = request.files.get("picture")  # form fields are in request.form, files here
    if picture is None or picture.filename == "":
        abort(400, "Pick a file first.")
    # Never trust the name the browser sends: "../../app.py" becomes "app.py".
    name = secure_filename(picture.filename)
    if name.rsplit(".", 1)[-1].lower() not in ALLOWED:
        abort(400, f"Only {', '.join(sorted(ALLOWED))} files, please.")
    picture.save(os.path.join(app.config["UPLOAD_FOLDER"], name))
    return redirect(url_for("uploaded", name=name))


@app.route("/uploads/<name>")
def uploaded(name):
    # send_from_directory refuses names that would leave the folder.
    return send_from_directory(app.config["UPLOAD_FOLDER"], name)


@app.route("/favicon.ico")
def favicon():
    return send_from_directory(app.static_folder, "favicon.ico")


app.run()
