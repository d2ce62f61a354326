from flask import Flask, Response, abort, redirect, url_for

app = Flask(__name__)


@app.route("/")
def a_string():
    return "A string: sent as text/html with status 200."


@app.route("/dict")
def a_dict():
    return {"kind": "dict", "sent_as": "JSON"}


@app.route("/list")
def a_list():
    return ["a", "list", "is", "JSON", "too"]


@app.route("/status")
def with_status():
    return "Created.", 201


@app.route("/headers")
def with_status_and_headers():
    return "Not here, over there.", 418, {"X-Flask-Talk": "yes"}


@app.route("/headers-only")
def with_headers():
    return {"status": "defaults to 200"}, {"X-Flask-Talk": "yes"}


@app.route("/response")
def a_response():
    response = Response("Plain text, built by hand.\n", mimetype="text/plain")
    response.set_cookie("flavour", "oatmeal")
    return response


@app.route("/redirect")
def a_redirect():
    return redirect(url_for("a_dict"))


@app.route("/abort")
def an_abort():
    abort(403, description="You shall not pass.")


@app.route("/stream")
def a_generator():
    def lines():
        for number in range(1, 4):
            yield f"line {number}\n"
    return lines()  # sent piece by piece as it is produced


# Two mistakes, for comparison: each is a 500 with a TypeError that says what is allowed.
@app.route("/nothing")
def nothing():
    print("Forgot to return something")


@app.route("/number")
def a_number():
    return 42


app.run(host="0.0.0.0", port=5000)
