// The live log: the sandbox's events over the WebSocket, as they happen. The
// server replays the log from the start on every connection, so events are kept
// in order by `seq` and a reconnect (after a network blip or a host restart)
// shows nothing twice.
import { paintHighlighted } from "./api.js";

const MAX_LINES = 2000;
const RETRY_MS = [500, 1000, 2000, 5000];
const TRACEBACK_SETTLE_MS = 80; // a traceback's lines come together: colour it once they stop

export class LiveLog {
  /** onEvent(event) gets each new event; onLost(id) when the sandbox no longer exists. */
  constructor({ lines, status, follow, clear, onEvent, onLost }) {
    this.lines = lines;
    this.status = status;
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

  connect(id) {
    if (id === this.id) return;
    this.disconnect();
    this.clear();
    this.id = id;
    this.lastSeq = -Infinity;
    this.attempt = 0;
    this.open();
  }

  disconnect() {
    clearTimeout(this.retryTimer);
    this.id = null;
    const socket = this.socket;
    this.socket = null;
    socket?.close();
    this.setStatus("");
  }

  open() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(`${scheme}//${location.host}/ws/sandboxes/${encodeURIComponent(this.id)}`);
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.attempt = 0;
      this.setStatus("live");
    });
    socket.addEventListener("message", (message) => {
      if (this.socket !== socket) return;
      let event;
      try {
        event = JSON.parse(message.data);
      } catch {
        return;
      }
      if (event.seq <= this.lastSeq) return;
      this.lastSeq = event.seq;
      this.render(event);
      this.onEvent(event);
    });
    socket.addEventListener("close", () => {
      if (this.socket !== socket) return; // closed on purpose
      this.setStatus("reconnecting…");
      const id = this.id;
      const delay = RETRY_MS[Math.min(this.attempt++, RETRY_MS.length - 1)];
      this.retryTimer = setTimeout(() => this.reconnect(id), delay);
    });
  }

  async reconnect(id) {
    if (this.id !== id) return;
    // A closed socket may mean the host restarted and the sandbox is gone with it.
    const response = await fetch(`/api/sandboxes/${encodeURIComponent(id)}`).catch(() => null);
    if (this.id !== id) return;
    if (response?.status === 404) {
      this.addLine("system", "The sandbox is gone (the server restarted or stopped it). Press Run to start again.");
      this.disconnect();
      this.onLost(id);
      return;
    }
    this.open();
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
      const pre = document.createElement("pre");
      pre.className = "hl traceback";
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
    const node = document.createElement("div");
    node.className = `log-line ${kind}`;
    const stamp = document.createElement("time");
    stamp.textContent = new Date(time * 1000).toLocaleTimeString([], { hour12: false });
    const body = document.createElement("span");
    body.textContent = text;
    node.append(stamp, body);
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
