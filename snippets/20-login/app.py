from flask import Flask, redirect, request, url_for
from flask_login import (LoginManager, UserMixin, current_user, login_required, login_user,
                         logout_user)
from werkzeug.security import check_password_hash, generate_password_hash

app = Flask(__name__)
# Flask-Login keeps the logged-in user's id in the session, which Flask signs with this key.
app.config["SECRET_KEY"] = "change me: sessions are signed with this"

login_manager = LoginManager(app)
login_manager.login_view = "login"  # where @login_required sends a visitor who is not logged in


class User(UserMixin):  # UserMixin gives is_authenticated, get_id() and friends
    def __init__(self, id, name, password):
        self.id, self.name = id, name
        self.password_hash = generate_password_hash(password)


# A real app keeps users in a database; two in a dict will do here.
USERS = {"1": User("1", "ada", "analytical-engine"), "2": User("2", "grace", "cobol")}


@login_manager.user_loader
def load_user(user_id):
    """Called on every request with the id from the session: who is this?"""
    return USERS.get(user_id)


@app.route("/")
def index():
    if current_user.is_authenticated:
        return f"Logged in as {current_user.name}. <a href='/secret'>Secret</a> <a href='/logout'>Log out</a>"
    return "Not logged in. <a href='/login'>Log in</a>"


@app.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "POST":
        name, password = request.form.get("name", ""), request.form.get("password", "")
        user = next((u for u in USERS.values() if u.name == name), None)
        if user and check_password_hash(user.password_hash, password):
            login_user(user)
            # Only a path of this app: a ?next= of another site would make this an open redirect.
            wanted = request.args.get("next", "")
            safe = wanted.startswith("/") and not wanted.startswith("//")
            return redirect(wanted if safe else url_for("index"))
        return "Wrong name or password.", 401
    return """<form method="post">
      <input name="name" placeholder="name"> <input name="password" type="password">
      <button>Log in</button></form>"""


@app.route("/secret")
@login_required
def secret():
    return f"Only logged-in people see this, {current_user.name}."


@app.route("/logout")
def logout():
    logout_user()
    return redirect(url_for("index"))


app.run()
