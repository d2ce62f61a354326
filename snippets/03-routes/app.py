from flask import Flask
app = Flask("the_flask_module")

# Let's look at some of the things that you can do with routes.
@app.route("/hello")
def hello_page():
    return "I'm a hello page"

# You can go up to the HTML URL lenght limit of 2000 characters
# http://stackoverflow.com/questions/417142/what-is-the-maximum-length-of-a-url-in-different-browsers
@app.route("/hello/one_step_deeper")
def hello_deeper():
    return "I'm a hello page"

# the_last_slash_is_optional
@app.route("/hello/optional_slash/")
def optional_extra_slash():
    return "I can have a slash"

# Can't have slash
@app.route("/hello/no_slash")
def no_extra_slash():
    return "No slash for you."

# variables
@app.route('/<text_to_echo>/')
def echo(text_to_echo):
    return "echo {}".format(text_to_echo)

# variables but only ints
@app.route('/test/<int:int_to_echo>/')
def echo_only_ints(int_to_echo):
    return "echo {}".format(int_to_echo)

# two variables but only ints
@app.route('/<int:int_left>/<int:int_right>')
def add_ints(int_left, int_right):
    return "{}".format(int_left + int_right)

# the request object is where we can get http header information
# curl -X POST -d "{}" localhost:5000 # RUN THIS!
from flask import request
@app.route('/', methods=["GET", "POST", "PUT"])
def get_or_post():
    return request.method

@app.route('/all_methods', methods=["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE"])
def all_methods():
    return request.method


app.run(host="0.0.0.0", port=5000)
# You now have a running web server. go to http://localhost:5000/ in a web browser or curl http://localhost:5000
