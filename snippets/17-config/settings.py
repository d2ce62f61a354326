# Read by app.config.from_pyfile("settings.py"): only UPPERCASE names become settings.
GREETING = "Hello from settings.py"
PAGE_SIZE = 10
helper_value = "lowercase names are ignored"
