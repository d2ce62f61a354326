from flask import Flask
app = Flask("the_flask_module")

# variables
@app.route('/<text_to_echo>/')
def echo(text_to_echo):
    return "echo {}".format(text_to_echo)

# variables
@app.route('/<text_to_echo>/')
def echo_two(text_to_echo):
    return "Totally going to do my own thing."


app.run(host="0.0.0.0", port=5000)
# You now have a running web server. go to http://localhost:5000/ in a web browser or curl http://localhost:5000
