from flask import Flask
import ssl
ctx = ssl.SSLContext(ssl.PROTOCOL_SSLv23)
ctx.load_cert_chain('ssl.cert', 'ssl.key')

app = Flask("the_flask_module")
# The app object is really the heart of flask. All extensions modify the app object and almost
# all of the flask magic comes from calling methods in the app object.

# If you've never seen decorators (the @app syntax) before then go read this later:
# http://thecodeship.com/patterns/guide-to-python-function-decorators/

@app.route("/") # This is some decorator magic. Please ask if you need it explained.
def home_page():
    return "I'm a home page"

# app.run is a blocking call that won't exit unless there's a user interrupt or a system error. 
# You'll have to controll-c to kill this cell to move on to the next cells.
app.run(host="0.0.0.0", port=5000, ssl_context=ctx)
# You now have a running web server. go to https://localhost:5000/ in a web browser or curl https://localhost:5000
# this will generate a self-signed cert warning
