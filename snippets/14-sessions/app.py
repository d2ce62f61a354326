from flask import Flask, session
app = Flask("the_flask_module")

# We'll talk about configuration in a bit. For now  we just need to set a secret key in order to use the flask session.
app.config["SECRET_KEY"] = "I'm totally a unguessable secret."

@app.route("/")
def session_example():
    # The session object isn't a defaultdict
    try:
        session["number_of_calls"] += 1
    except KeyError:
        session["number_of_calls"] = 1
    return str(session["number_of_calls"])



app.run(host="0.0.0.0", port=5000)
# You now have a running web server. go to http://localhost:5000/ in a web browser or curl http://localhost:5000
