from flask import Flask, redirect, render_template, url_for
from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField
from wtforms.validators import DataRequired, Length, NumberRange

app = Flask(__name__)
# Flask-WTF signs each form's CSRF token with this key (and keeps it in the session).
app.config["SECRET_KEY"] = "change me: CSRF tokens are signed with this"

GUESTS = []


class RSVPForm(FlaskForm):
    """The fields, and what each must hold. FlaskForm adds a hidden csrf_token field."""
    name = StringField("Name", validators=[DataRequired(), Length(max=40)])
    guests = IntegerField("Guests", validators=[NumberRange(min=0, max=3)], default=0)


@app.route("/", methods=["GET", "POST"])
def rsvp():
    form = RSVPForm()  # filled from request.form when the request is a POST
    if form.validate_on_submit():  # a POST, with a valid CSRF token and valid fields
        GUESTS.append((form.name.data, form.guests.data))
        return redirect(url_for("rsvp"))
    status = 400 if form.errors else 200
    return render_template("rsvp.html", form=form, guests=GUESTS), status


@app.post("/api/rsvp")
def rsvp_api():
    # A script posting JSON has no page to get a token from: this form does without CSRF.
    form = RSVPForm(meta={"csrf": False})  # Flask-WTF reads a JSON body too
    if not form.validate():
        return {"errors": form.errors}, 400
    GUESTS.append((form.name.data, form.guests.data))
    return {"name": form.name.data, "guests": form.guests.data}, 201


app.run()
