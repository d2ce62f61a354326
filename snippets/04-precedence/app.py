from flask import Flask
app = Flask("the_flask_module")

# The talk's rules: typed wild cards first, general wild cards second, strings (static
# routes) last, and otherwise the top-most route wins. The rules below are declared in the
# order that would make those rules true. Request each path and see who answers.

@app.route("/<path:anything>")  # a catch-all: matches any path, slashes included
def catch_all(anything):
    return "catch_all (path converter) got {}".format(anything)

@app.route("/<arg_name>")  # a general wild card
def general(arg_name):
    return "general wild card got {}".format(arg_name)

@app.route("/<int:arg_name>")  # a typed wild card
def typed(arg_name):
    return "typed (int) wild card got {}".format(arg_name)

@app.route("/route_name")  # a standard route
def standard():
    return "standard route /route_name"

# Two segments: which part decides, the first or the second?
@app.route("/<arg_name>/edit")
def edit_anything(arg_name):
    return "edit_anything got {}".format(arg_name)

@app.route("/route_name/<action>")
def route_name_action(action):
    return "route_name_action got {}".format(action)


app.run(host="0.0.0.0", port=5000)
