// The live log: the sandbox's events over the WebSocket, as they happen. The
// server replays the log from the start on every connection, so events are kept
// in order by `seq` and a reconnect (after a network blip or a host restart)
// shows nothing twice. A follower's copy reads the presenter's app's log the same way.
import { paintHighlighted } from "./api.js";
import { el } from "./dom.js";
import { LiveSocket } from "./socket.js";

const MAX_LINES = 2000;
const TRACEBACK_SETTLE_MS = 80; // a traceback's lines come together: colour it once they stop

export class LiveLog {
  /**
   * The parts of a log panel (templates/_log_panel.html) with ids starting with `prefix`;
   * onEvent(event) gets each new event; onLost(id) when the sandbox no longer exists.
   */
  constructor(prefix, { onEvent = () => {}, onLost = () => {} } = {}) {
    const $ = (part) => document.getElementById(`${prefix}-${part}`);
    const [lines, follow, clear] = [$("lines"), $("follow"), $("clear")];
    this.lines = lines;
    this.status = $("status");
    this.runtime = $("runtime");
    this.follow = follow;
    this.onEvent = onEvent;
    this.onLost = onLost;
    this.socket = null;
    this.id = null;
    this.traceback = null; // the traceback block being filled, line by line
    clear.addEventListener("click", () => this.clear());
    // Scrolling up pauses auto-scroll; scrolling back to the bottom resumes it.
    lines.addEventListener("wheel", (event) => { if (event.deltaY < 0) follow.checked = false; });
    lines.addEventListener("scroll", () => {
      if (lines.scrollHeight - lines.scrollTop - lines.clientHeight < 4) follow.checked = true;
    });
  }

  /** The log of the visitor's own sandbox `id`. */
  connect(id) {
    if (id === this.id) return;
    this.open(id, `/ws/sandboxes/${encodeURIComponent(id)}`, {
      onDrop: () => this.setStatus("reconnecting…"),
      retry: () => this.stillThere(id),
    });
  }

  /** The presenter's app's log, for a follower. Each connection replays the whole log of the app
   * the presenter runs then, maybe another than before: the lines start afresh. */
  followPresenter() {
    this.open("presenter", "/ws/follow/log", {
      fresh: true,
      onDrop: () => this.setStatus("waiting for the presenter's app…"),
    });
  }

  /** Dropped and waiting to connect again: connect now. */
  retryNow() {
    this.socket?.retryNow();
  }

  open(id, path, { fresh = false, onDrop, retry }) {
    this.disconnect();
    this.clear();
    this.id = id;
    let lastSeq = -Infinity;
    this.socket = new LiveSocket(path, {
      onOpen: () => {
        if (fresh) {
          this.clear();
          lastSeq = -Infinity;
        }
        this.setStatus("live");
      },
      onMessage: (event) => {
        if (!Number.isFinite(event.seq) || event.seq <= lastSeq) return; // an error frame: the close says it
        lastSeq = event.seq;
        this.render(event);
        this.onEvent(event);
      },
      onDrop,
      retry,
    });
  }

  /** The Python, Flask and Werkzeug the app runs with (a sandbox's `runtime`), or none. */
  showRuntime(runtime) {
    this.runtime.textContent = runtime ? `Python ${runtime.python} · Flask ${runtime.flask}` : "";
    this.runtime.title = runtime ? `The app runs with Python ${runtime.python}, Flask ${runtime.flask} and Werkzeug ${runtime.werkzeug}` : "";
  }

  disconnect() {
    this.id = null;
    this.socket?.close();
    this.socket = null;
    this.setStatus("");
  }

  /** A closed socket may mean the host restarted and the sandbox is gone with it. */
  async stillThere(id) {
    const response = await fetch(`/api/sandboxes/${encodeURIComponent(id)}`).catch(() => null);
    if (this.id !== id) return false;
    if (response?.status !== 404) return true;
    this.addLine("system", "The sandbox is gone (the server restarted or stopped it). Press Run to start again.");
    this.disconnect();
    this.onLost(id);
    return false;
  }

  setStatus(text) {
    this.status.textContent = text;
    this.status.dataset.status = text;
  }

  clear() {
    this.lines.replaceChildren();
    this.traceback = null;
  }

  render(event) {
    if (event.type === "log") this.logLine(event);
    else if (event.type === "state") this.addLine("system", describeState(event));
    else if (event.type === "exception") {
      const { type, message, file, line } = event.error ?? {};
      this.addLine("exception", `${event.method} ${event.path} raised ${type}: ${message}`
        + (file ? ` (${file.split("/").pop()}, line ${line})` : ""));
    }
  }

  logLine({ stream, line, time }) {
    // Tracebacks arrive a line at a time; gather each into one highlighted block.
    if (this.traceback?.stream === stream) {
      this.appendToTraceback(line);
      if (!/^\s/.test(line) && !isTracebackGlue(line)) this.traceback = null; // the final "Error: ..." line
      return;
    }
    this.traceback = null;
    if (line.startsWith("Traceback (most recent call last):")) {
      const block = this.addLine(stream, "", time);
      const pre = el("pre", { className: "hl traceback" });
      block.querySelector("span").replaceWith(pre); // the whole width beside the time
      this.traceback = { stream, pre, text: "" };
      this.appendToTraceback(line);
      return;
    }
    const node = this.addLine(stream, line, time);
    const status = line.match(/" (\d)\d\d (\d+|-)$/); // werkzeug's access log: "GET / HTTP/1.1" 200 -
    if (status) node.dataset.status = `${status[1]}xx`;
  }

  appendToTraceback(line) {
    // Plain at once; coloured once the lines stop coming: one highlight per traceback, not
    // one per line (which would spend the visitor's highlight rate on a single error).
    const tb = this.traceback;
    tb.text += (tb.text ? "\n" : "") + line;
    tb.pre.textContent = tb.text;
    this.scroll();
    clearTimeout(tb.timer);
    tb.timer = setTimeout(() => paintHighlighted(tb.pre, tb.text, "pytb").then(() => this.scroll()),
      TRACEBACK_SETTLE_MS);
  }

  addLine(kind, text, time = Date.now() / 1000) {
    const node = el("div", { className: `log-line ${kind}` },
      el("time", {}, new Date(time * 1000).toLocaleTimeString([], { hour12: false })), el("span", {}, text));
    this.lines.append(node);
    while (this.lines.childElementCount > MAX_LINES) this.lines.firstElementChild.remove();
    this.scroll();
    return node;
  }

  scroll() {
    if (this.follow.checked) this.lines.scrollTop = this.lines.scrollHeight;
  }
}

function isTracebackGlue(line) {
  return line === "" || line.startsWith("During handling") || line.startsWith("The above exception")
    || line.startsWith("Traceback (most recent call last):");
}

function describeState({ state, port, scheme, error }) {
  // The port is the sandbox's own: app.run(port=5000) is taken over, so say so once here.
  if (state === "running") {
    return `● running on ${scheme ?? "http"} port ${port} (the playground's port for your app.run)`;
  }
  if (state === "failed") return `✖ failed${error ? `: ${error.type}: ${error.message}` : ""}`;
  // Stopping kills the app on purpose: its exit status (-9) would only look like a crash.
  if (state === "stopped") return "■ stopped";
  return `… ${state}`;
}
