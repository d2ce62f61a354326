from flask import Flask
app = Flask("the_flask_module")


@app.route('/div/<int:int_left>/<int:int_right>')
def div_ints(int_left, int_right):
    return "{}".format(int_left / int_right)


app.run(host="0.0.0.0", port=5000)
# You now have a running web server. go to http://localhost:5000/ in a web browser or curl http://localhost:5000
