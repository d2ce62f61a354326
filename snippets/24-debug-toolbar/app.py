from flask import Flask, g, redirect, render_template, url_for
from flask_debugtoolbar import DebugToolbarExtension

app = Flask(__name__)
app.debug = True  # the toolbar only switches itself on in debug mode
app.config["SECRET_KEY"] = "the toolbar needs one"
toolbar = DebugToolbarExtension(app)


@app.route("/")
def index():
    g.visitor = "Ada"  # the toolbar's g panel shows what a request put in g
    app.logger.info("rendering the index")  # ...and its logging panel what was logged
    return render_template("index.html", languages=["Python", "Jinja", "SQL"])


@app.route("/elsewhere")
def elsewhere():
    # In debug mode the toolbar stops at a redirect and shows where it goes: click to follow.
    return redirect(url_for("index"))


@app.route("/plain")
def plain():
    return "Not HTML, so no toolbar."


app.run(debug=True)
