"""Shared by the benchmarks: a small app, free ports, figures."""

import socket
import statistics

APP = """from flask import Flask
app = Flask("the_flask_module")

@app.route("/")
def home_page():
    return "I'm a home page"

app.run(host="127.0.0.1", port={port})
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def summary(name: str, samples: list) -> float:
    """Print median and p90 in ms; return the median."""
    samples = sorted(samples)
    median = statistics.median(samples)
    p90 = samples[int(len(samples) * 0.9) - 1]
    print(
        f"  {name:<44} median {median * 1000:8.2f} ms   p90 {p90 * 1000:8.2f} ms   "
        f"(n={len(samples)})"
    )
    return median
