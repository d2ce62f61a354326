from flask import Flask, g
app = Flask("the_flask_module")

# We'll talk about configuration in a bit. For now  we just need to set a secret key in order to use the flask session.
app.config["SECRET_KEY"] = "I'm totally a unguessable secret."

@app.route("/")
def session_example():
    # The session object isn't a defaultdict
    try:
        g["number_of_calls"] += 1
    except KeyError:
        g["number_of_calls"] = 1
    return str(g["number_of_calls"])


# Added by the playground (not in the talk): g used the way Flask means it.
def count_call():
    g.number_of_calls = g.get("number_of_calls", 0) + 1
    return g.number_of_calls

@app.route("/attribute")
def attribute_example():
    return str(count_call())

@app.route("/within_one_request")
def within_one_request():
    count_call()
    count_call()
    return str(count_call())


app.run(host="0.0.0.0", port=5000)
# You now have a running web server. go to http://localhost:5000/ in a web browser or curl http://localhost:5000
