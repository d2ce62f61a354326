from flask import Flask, jsonify 
app = Flask("the_flask_module")

# More Info On jsonify at http://stackoverflow.com/questions/7907596/json-dumps-vs-flask-jsonify
@app.route('/')
def for_template():
    return jsonify({"the_tree_stooges": ["Moe", "Larry", "Curley"]})


app.run(host="0.0.0.0", port=5000)
# You now have a running web server. go to http://localhost:5000/ in a web browser or curl http://localhost:5000
