from flask import Flask
app = Flask("the_flask_module")


@app.route("/hello")
def hello_page():
    return "I'm a hello page"

@app.route("/different_route")
def hello_page():
    return "Different route"


app.run(host="0.0.0.0", port=5000)
# You now have a running web server. go to http://localhost:5000/ in a web browser or curl http://localhost:5000
