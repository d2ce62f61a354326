"""Every setting of the playground, with its default and what it is for.

Override any of them with an environment variable `PLAYGROUND_<NAME>` (values are parsed as
JSON where they can be, so `PLAYGROUND_MAX_SANDBOXES=10` is an int) or with `create_app(config)`.
"""

import secrets

# name: (default, help)
SETTINGS = {
    "SANDBOX_MODE": ("auto", "auto, bubblewrap or process: how children are isolated."),
    "WARM_START": (
        True,
        "Start children by forking a zygote that has imported Flask into a jail "
        "bubblewrap made (as root, with libseccomp); false: a fresh Python each time.",
    ),
    "POOL_MIN": (
        2,
        "Parked sandboxes kept ready for the next Run (a warm run started before "
        "its files), whatever the number of pages open.",
    ),
    "POOL_MAX": (
        256,
        "Parked sandboxes kept at most: one for each page open (each about 9 MB), "
        "within MAX_SANDBOXES.",
    ),
    "START_TIMEOUT": (
        10.0,
        "Seconds a child may take to start serving before it is failed, "
        "unless it is still using CPU (a busy machine): see START_TIMEOUT_MAX.",
    ),
    "START_TIMEOUT_MAX": (
        60.0,
        "Seconds a start that keeps using CPU may take on a busy machine "
        "before it is failed all the same.",
    ),
    "REQUEST_TIMEOUT": (10.0, "Seconds the proxy waits for a child's response before a 504."),
    "MAX_BODY_BYTES": (1024 * 1024, "Bytes of a child's response body the proxy reads."),
    "MAX_REQUEST_BODY_BYTES": (1024 * 1024, "Bytes of request body a visitor may send."),
    "MAX_FILES": (50, "Files in one snippet."),
    "MAX_FILE_BYTES": (256 * 1024, "Bytes in one file of a snippet."),
    "MAX_SNIPPET_BYTES": (1024 * 1024, "Bytes in all files of a snippet."),
    "MAX_SANDBOXES": (
        None,
        "Sandboxes running at once, all visitors together; when unset, what "
        "LIMIT_ALL_SANDBOXES_MEMORY_BYTES holds at SANDBOX_MEMORY_ESTIMATE each.",
    ),
    "SANDBOX_MEMORY_ESTIMATE": (
        16 * 1024 * 1024,
        "Memory one running app is expected to use "
        "(a warm hello app: about 10 MB), to size MAX_SANDBOXES.",
    ),
    "MAX_SOCKETS_PER_VISITOR": (
        24,
        "WebSockets one visitor may hold open at once (each holds a "
        "host thread): a few per open tab.",
    ),
    "MAX_SANDBOXES_PER_VISITOR": (3, "Sandboxes one visitor may have at once."),
    "IDLE_TIMEOUT": (900.0, "Seconds without use after which a sandbox is stopped."),
    "LOG_LINES": (2000, "Events kept per sandbox (its log, requests, state changes)."),
    "LOG_BYTES": (8 * 1024 * 1024, "Bytes of events kept per sandbox; the oldest go first."),
    "LOG_LINE_BYTES": (4096, "Bytes kept of one line of a child's output."),
    "LIMIT_MEMORY_BYTES": (
        128 * 1024 * 1024,
        "Memory of a child's whole process tree, its files "
        "included, as its cgroup counts it (a warm hello app uses about 10 MB, "
        "the blog about 45 MB at its peak).",
    ),
    "LIMIT_ADDRESS_SPACE_BYTES": (
        1024 * 1024 * 1024,
        "Address space of each process of a child "
        "(RLIMIT_AS): a backstop, so one huge allocation is a "
        "MemoryError at once.",
    ),
    "LIMIT_CPU_SECONDS": (120, "CPU seconds a child may use in its whole life (RLIMIT_CPU)."),
    "LIMIT_PROCESSES": (64, "Processes and threads of a child (RLIMIT_NPROC, per sandbox uid)."),
    "LIMIT_OPEN_FILES": (256, "Open files of a child (RLIMIT_NOFILE)."),
    "LIMIT_FILE_BYTES": (16 * 1024 * 1024, "Largest file a child may write (RLIMIT_FSIZE)."),
    "LIMIT_DISK_BYTES": (64 * 1024 * 1024, "Size of a child's own writable files (tmpfs)."),
    "LIMIT_CPU_SHARE": (0.5, "Share of one CPU core a child may use at most (cgroup cpu quota)."),
    "LIMIT_OUTPUT_BYTES": (
        4 * 1024 * 1024,
        "Bytes a child may print in one run; more and it is stopped.",
    ),
    "LIMIT_EVENT_BYTES_PER_SECOND": (
        256 * 1024,
        "Bytes a second a child may write on its events "
        "pipe (request traces, exceptions); faster and it is "
        "stopped.",
    ),
    "LIMIT_EVENT_BURST_BYTES": (
        4 * 1024 * 1024,
        "Bytes a child may write on its events pipe at "
        "once before LIMIT_EVENT_BYTES_PER_SECOND applies.",
    ),
    "EVENT_WAIT_SECONDS": (
        0.5,
        "Seconds an exchange waits for the child's own account of it "
        "(its request event) after the response has been read.",
    ),
    "LIMIT_ALL_SANDBOXES_MEMORY_BYTES": (
        None,
        "Memory of all children together (cgroup); half of the machine's when unset.",
    ),
    "SANDBOXES_CPU_WEIGHT": (
        256,
        "CPU weight of all children together (cgroup cpu.shares) "
        "against each busy host thread's 1024: the host answers first.",
    ),
    "MAX_STARTING": (
        None,
        "Children starting at once; further runs wait for a turn. When unset: "
        "16 a core for warm starts (a few ms of CPU each, mostly waiting on the "
        "kernel), one a core for cold ones (150 ms of CPU importing Flask).",
    ),
    "START_QUEUE_TIMEOUT": (
        30.0,
        "Seconds a run waits for its turn before 'the playground is busy'.",
    ),
    "RATE_RUNS_PER_MINUTE": (
        30,
        "Runs (POST or PUT of a sandbox) one visitor may start per minute.",
    ),
    "RATE_RUN_BURST": (10, "Runs a visitor may start at once before the per-minute rate applies."),
    "RATE_COMMANDS_PER_MINUTE": (
        30,
        "flask commands one visitor may run per minute (each is a "
        "Python process in their sandbox).",
    ),
    "RATE_COMMAND_BURST": (10, "flask commands a visitor may run at once."),
    "COMMAND_TIMEOUT": (30.0, "Seconds a flask command may run before it is stopped."),
    "TEXT_FREE_BYTES": (
        64 * 1024,
        "Bytes of a text to highlight or format that count against the visitor's own rate only.",
    ),
    "TEXT_BYTES_PER_SECOND": (
        4 * 1024 * 1024,
        "Bytes a second past TEXT_FREE_BYTES that all "
        "visitors together may send to be highlighted or formatted.",
    ),
    "TEXT_BYTES_BURST": (
        16 * 1024 * 1024,
        "Bytes past TEXT_FREE_BYTES all visitors may send to be highlighted or formatted at once.",
    ),
    "RATE_SHARES_PER_MINUTE": (10, "Shares one visitor may store per minute (kept for good)."),
    "RATE_SHARE_BURST": (10, "Shares a visitor may store at once."),
    "RATE_ALL_SHARES_PER_MINUTE": (
        120,
        "Shares all visitors together may store per minute (a "
        "script that drops its cookie is a new visitor each time).",
    ),
    "RATE_ALL_SHARE_BURST": (60, "Shares all visitors together may store at once."),
    "SHARES_MAX_BYTES": (
        256 * 1024 * 1024,
        "Bytes of all shares together (their files' JSON, "
        "kept on disk). Past it, a new share makes room by removing the shares "
        "least recently opened, never one opened within SHARE_KEEP_DAYS; "
        "without such room it is refused (507).",
    ),
    "SHARE_KEEP_DAYS": (30, "Days a share is kept for sure after it was made or last opened."),
    "RATE_PRESENTER_TRIES_PER_MINUTE": (
        5,
        "Tries of the presenter token one visitor may make per minute.",
    ),
    "RATE_PRESENTER_TRY_BURST": (5, "Tries of the presenter token a visitor may make at once."),
    "RATE_ALL_PRESENTER_TRIES_PER_MINUTE": (
        30,
        "Tries of the presenter token all visitors "
        "together may make per minute (guessing it from "
        "new cookies each time).",
    ),
    "RATE_ALL_PRESENTER_TRY_BURST": (
        10,
        "Tries of the presenter token all visitors together may make at once.",
    ),
    "RATE_HIGHLIGHTS_PER_SECOND": (
        20,
        "Highlightings of the editor's text one visitor may ask for per second.",
    ),
    "RATE_HIGHLIGHT_BURST": (
        60,
        "Highlightings a visitor may ask for at once (one exchange "
        "asks for several: body, heads, traceback).",
    ),
    "RATE_FORMATS_PER_MINUTE": (
        60,
        "Formattings of the editor's Python one visitor may ask for per minute.",
    ),
    "RATE_FORMAT_BURST": (10, "Formattings a visitor may ask for at once."),
    "HIGHLIGHT_TIMEOUT": (
        2.0,
        "Seconds one highlighting may run in a worker before the worker "
        "is killed and the text is shown plain (and as long again to wait "
        "for a free worker).",
    ),
    "FORMAT_TIMEOUT": (
        5.0,
        "Seconds one formatting may run in a worker before it is killed "
        "(and as long again to wait for a free worker).",
    ),
    "TEXT_WORKERS": (
        None,
        "Worker processes that highlight and format visitors' text, so no "
        "text can stall the host; the machine's core count when unset.",
    ),
    "TEXT_WORKER_QUEUE": (
        8,
        "Calls that may wait for a busy text worker; the next ones are "
        "answered at once without it (plain text, or a 503 to format).",
    ),
    "TEXT_WORKER_START_TIMEOUT": (
        30.0,
        "Seconds a new text worker may take to start "
        "(importing Pygments) before it is replaced; calls meanwhile "
        "are answered without it.",
    ),
    "TEXT_WORKER_MEMORY_BYTES": (
        512 * 1024 * 1024,
        "Address space of a text worker "
        "(RLIMIT_AS); also the largest answer the host reads from one.",
    ),
    "RATE_REQUESTS_PER_SECOND": (10, "Requests one visitor may send through the proxy per second."),
    "RATE_REQUEST_BURST": (30, "Requests a visitor may send at once before the rate applies."),
    "MAX_REQUEST_HEADERS": (100, "Headers in one request a visitor sends through the proxy."),
    "MAX_TARGET_BYTES": (8192, "Bytes of the path and query of a request sent through the proxy."),
    "MAX_CONTENT_LENGTH": (
        8 * 1024 * 1024,
        "Bytes of any request body the host reads (Flask's own).",
    ),
    "HOST_THREADS": (
        2048,
        "Connections `python -m playground` serves at once (WebSockets "
        "included); more wait in the listen queue.",
    ),
    "MAX_SOCKETS": (
        1536,
        "WebSockets open at once, all visitors together: each holds a host "
        "thread, so they may take only a share of HOST_THREADS (a visitor needs about "
        "3: 500 people fit).",
    ),
    "HEADER_TIMEOUT": (
        10.0,
        "Seconds a client has to send a request's head (python -m "
        "playground); idle keep-alive connections are closed after it.",
    ),
    "BODY_TIMEOUT": (30.0, "Seconds a client has to send a request's body once its head is in."),
    "ALLOWED_HOSTS": (
        None,
        "Names the playground answers to, as `name` (any port) or "
        "`name:port` (a list, or one string separated by commas); a request or "
        "WebSocket naming another Host gets a 400 (DNS rebinding). `0.0.0.0:PORT` "
        "or `[::]:PORT` allows any IP address at that port. Behind "
        "TRUSTED_PROXIES the forwarded host is checked: list the public name. "
        "Unset: under `python -m playground`, its --host and --port, and "
        "localhost, 127.0.0.1 and [::1] at that port (any IP address there with "
        "--host 0.0.0.0); under another server, the loopback names at any port.",
    ),
    "TRUSTED_PROXIES": (
        0,
        "Reverse proxies in front of the host whose X-Forwarded-For, -Proto "
        "and -Host are believed (so Origin checks see https://the.public.name).",
    ),
    "SANDBOX_UID_BASE": (200000, "First uid given to a sandbox when the host runs as root."),
    "SNIPPETS_DIR": (None, "Directory of the snippet catalog; the shipped one when unset."),
    "SECRET_KEY": (None, "Signs the visitor cookie; random at each start when unset."),
    "PRESENTER_TOKEN": (
        None,
        "Proves who may present; random at each start (and printed) when unset.",
    ),
    "FOLLOWER_REQUESTS_PER_MINUTE": (60, "Requests one follower may send to the presenter's app."),
    "FOLLOWER_REQUEST_BURST": (10, "Requests a follower may send at once before the rate applies."),
    "MAX_FOLLOWERS": (1000, "Followers whose own cookie jar for the presenter's app is kept."),
    "INSTANCE_PATH": (
        None,
        "Folder of the playground's own files (the shares database); "
        "Flask's instance folder when unset.",
    ),
    "MAX_SHARE_BYTES": (256 * 1024, "Bytes in all files of one shared snippet."),
}


def defaults() -> dict:
    config = {name: default for name, (default, _help) in SETTINGS.items()}
    config["SECRET_KEY"] = secrets.token_hex(32)
    config["PRESENTER_TOKEN"] = secrets.token_urlsafe(12)
    return config


REGENERATE = (
    "python -c 'from playground import config; print(config.markdown(), end=\"\")' "
    "> docs/settings.md"
)


def markdown() -> str:
    """docs/settings.md: every setting, its default and what it is for (tests/test_config.py
    checks the file is up to date; REGENERATE writes it)."""
    lines = [
        "# Settings",
        "",
        "Every setting of the playground, generated from `playground/config.py` (by",
        f"`{REGENERATE}`).",
        "Set any of them in the environment as `PLAYGROUND_<NAME>` (JSON where it parses:",
        "`PLAYGROUND_MAX_SANDBOXES=10`) or with `create_app({...})`.",
        "",
        "| setting | default | what it is for |",
        "|---|---|---|",
    ]
    for name, (default, help_text) in SETTINGS.items():
        shown = "unset" if default is None else f"`{default!r}`"
        lines.append(f"| `{name}` | {shown} | {help_text} |")
    return "\n".join(lines) + "\n"
