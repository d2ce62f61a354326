import os

from flask import Flask

app = Flask(__name__)

# Each step overrides the one before it.
# 1. Flask's own defaults are already there: DEBUG, SESSION_COOKIE_NAME, MAX_CONTENT_LENGTH...
# 2. One key at a time.
app.config["SECRET_KEY"] = "change me"
# 3. Many keys at once.
app.config.from_mapping(GREETING="Hello from from_mapping", PAGE_SIZE=5, SHOW_DRAFTS=False)
# 4. A Python file, relative to the app's folder.
app.config.from_pyfile("settings.py")
# 5. Environment variables that start with FLASK_. The sandbox starts with an almost empty
#    environment, so we set two here, the way `export FLASK_PAGE_SIZE=25` would in a shell.
os.environ["FLASK_PAGE_SIZE"] = "25"
os.environ["FLASK_SHOW_DRAFTS"] = "true"
app.config.from_prefixed_env()


@app.route("/")
def settings():
    names = ["GREETING", "PAGE_SIZE", "SHOW_DRAFTS", "SECRET_KEY", "helper_value"]
    return {name: repr(app.config.get(name, "(not set)")) for name in names}


@app.route("/defaults")
def defaults():
    names = ["DEBUG", "TESTING", "SESSION_COOKIE_NAME", "MAX_CONTENT_LENGTH",
             "PERMANENT_SESSION_LIFETIME"]
    return {name: repr(app.config[name]) for name in names}


app.run(host="0.0.0.0", port=5000)
