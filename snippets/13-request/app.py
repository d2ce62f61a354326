import os  # missing from the talk's code: see the notes
from flask import Flask, request, render_template
# This is some path magic that's required because this is an IPython notebook.
template_dir = os.path.join(os.getcwd(), "the_flask_module", "templates")
app = Flask("the_flask_module", template_folder=template_dir)


@app.route("/request_example")
def request_values():
    return render_template("request_example.html")



app.run(host="0.0.0.0", port=5000)
# You now have a running web server. go to http://localhost:5000/ in a web browser or curl http://localhost:5000
