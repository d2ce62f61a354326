import os
from flask import Flask
# This is some path magic that's required because this is an IPython notebook.
template_dir = os.path.join(os.getcwd(), "the_flask_module", "templates")
app = Flask("the_flask_module", template_folder=template_dir)

# We've seen that routes can return straight strings
@app.route('/just_string')
def just_string():
    return "I'm just a poor string!"

from flask import render_template
# Flask also allows you to call a templating engine (which in turn just returns straight strings but prettier)
@app.route('/')
def simple_template():
    return render_template("simple_example.html")

# You can pass arguments to templates which can be tested.
@app.route('/if/')
def if_template():
    return render_template("if_example.html", oxford_comma=True)

# Or arguments that are used to loop.
@app.route('/for/')
def for_template():
    return render_template("for_example.html", word_list=["Nothing", "to", "see", "here."])


app.run(host="0.0.0.0", port=5000)
# You now have a running web server. go to http://localhost:5000/ in a web browser or curl http://localhost:5000
