from flask import Flask, flash, redirect, render_template, request, url_for

app = Flask(__name__)
# Flashed messages wait in the session until they are shown, so the app needs a secret key.
app.config["SECRET_KEY"] = "flash messages live in the session"


@app.route("/")
def index():
    return render_template("index.html")


@app.route("/greet", methods=["POST"])
def greet():
    name = request.form.get("name", "").strip()
    if name:
        flash(f"Nice to meet you, {name}!", "success")
    else:
        flash("Please tell me your name.", "error")
    # Redirect after a POST, so reloading the page does not send the form again.
    return redirect(url_for("index"))


app.run(host="0.0.0.0", port=5000)
