import time

from flask import Flask
from flask_caching import Cache

app = Flask(__name__)
# SimpleCache keeps answers in this process's memory; Redis or Memcached would share them
# between processes and servers.
app.config["CACHE_TYPE"] = "SimpleCache"
app.config["CACHE_DEFAULT_TIMEOUT"] = 60  # seconds
cache = Cache(app)

calls = {"report": 0, "square": 0}  # how often the real work ran


@app.route("/report")
@cache.cached(timeout=30)  # the whole response, kept for 30 s per path
def report():
    calls["report"] += 1
    time.sleep(0.5)  # pretend this is slow
    return f"Report made {calls['report']} time(s), at {time.strftime('%H:%M:%S')}"


@cache.memoize()  # one cached result per argument
def square(n):
    calls["square"] += 1
    return n * n


@app.route("/square/<int:n>")
def show_square(n):
    return {"n": n, "square": square(n), "computed": calls["square"]}


@app.post("/forget")
def forget():
    cache.delete("view//report")  # @cached's key: "view/" + the request path
    cache.delete_memoized(square)
    return "Forgotten."


app.run()
