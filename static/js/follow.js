// Follow and fork: any visitor sees when a presenter is live and can follow a
// read-only mirror of their editor (cursor and scroll included) and of their
// last request and response, with the diff against the previous run. A follower
// may send requests of their own to the presenter's app (their own cookies), or
// fork: copy the presenter's code into their own editor and run it there.
import { api, escapeHtml, highlight, languageFor } from "./api.js";
import { load, save } from "./storage.js";
import { renderDiff } from "./watch.js";

const HIGHLIGHT_DELAY_MS = 120;
const RETRY_MS = [500, 1000, 2000, 5000];
const SIZES = [14, 16, 20, 24, 30, 36, 44]; // px: the last ones are for a projector
const FOLLOWING = "playground:following"; // sessionStorage: this tab follows, across reloads

function socketUrl(path) {
  return `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}${path}`;
}

/** Whether a presenter is live: a small socket every page keeps open. */
class Presence {
  constructor(onChange) {
    this.onChange = onChange;
    this.attempt = 0;
    this.open();
  }

  open() {
    const socket = new WebSocket(socketUrl("/ws/follow?presence=1"));
    socket.addEventListener("message", (message) => {
      const event = JSON.parse(message.data);
      if (event.type === "live") this.onChange(event.live);
    });
    socket.addEventListener("open", () => { this.attempt = 0; });
    socket.addEventListener("close", () => {
      this.onChange(false);
      setTimeout(() => this.open(), RETRY_MS[Math.min(this.attempt++, RETRY_MS.length - 1)]);
    });
  }
}

export class FollowMode {
  /** onFork(files, {slug, title}) opens the presenter's code in the visitor's own editor (false
   * if the visitor said no); onFollow() when the mirror opens. */
  constructor({ root, button, onFork, onFollow }) {
    this.root = root;
    this.button = button;
    this.onFork = onFork;
    this.onFollow = onFollow;
    const $ = (id) => root.querySelector(`#${id}`);
    this.el = {
      title: $("follow-title"), status: $("follow-status"), tabs: $("follow-tabs"),
      scroll: $("follow-scroll"), gutter: $("follow-gutter"), text: $("follow-text"),
      caret: $("follow-caret"), run: $("follow-run"), requestLine: $("follow-request-line"),
      responseStatus: $("follow-response-status"), response: $("follow-response"),
      exchange: $("follow-exchange"), method: $("follow-method"), path: $("follow-path"),
      ownStatus: $("follow-own-status"), ownCookies: $("follow-own-cookies"), ownBody: $("follow-own-body"),
      watch: $("follow-watch"),
    };
    this.diff = document.createElement("div");
    this.diff.className = "response-diff";
    this.diff.dataset.testid = "follow-diff";
    this.diff.hidden = true;
    this.el.exchange.querySelector(".status-line").after(this.diff);
    this.state = {};
    this.socket = null;
    this.live = false;
    this.presenting = false; // this page is the presenter's: nobody to follow
    this.forked = false;
    this.version = 0;
    this.setSize(load("followSize", 16));

    button.addEventListener("click", () => this.follow());
    $("follow-close").addEventListener("click", () => this.unfollow());
    $("follow-fork").addEventListener("click", () => this.fork());
    $("follow-smaller").addEventListener("click", () => this.step(-1));
    $("follow-larger").addEventListener("click", () => this.step(1));
    $("follow-request-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.sendOwn();
    });
    this.presence = new Presence((live) => {
      this.live = live;
      // Following when the page was reloaded: follow again (this tab only).
      if (live && sessionStorage.getItem(FOLLOWING) && !this.following && !this.presenting) this.follow();
      this.renderButton();
    });
  }

  get following() {
    return this.socket !== null;
  }

  /** This page started or stopped presenting. */
  setPresenting(presenting) {
    this.presenting = presenting;
    this.renderButton();
  }

  renderButton() {
    this.button.hidden = !this.live || this.presenting || this.following;
    this.button.textContent = this.forked ? "● Back to following" : "● Follow the presenter";
  }

  setSize(px) {
    this.size = px;
    this.root.style.setProperty("--follow-size", `${px}px`);
    save("followSize", px);
  }

  step(direction) {
    const index = SIZES.findIndex((s) => s >= this.size);
    this.setSize(SIZES[Math.max(0, Math.min(SIZES.length - 1, index + direction))]);
  }

  follow() {
    sessionStorage.setItem(FOLLOWING, "1");
    this.onFollow();
    this.root.hidden = false;
    this.attempt = 0;
    this.connect();
    this.renderButton();
  }

  unfollow() {
    sessionStorage.removeItem(FOLLOWING);
    const socket = this.socket;
    this.socket = null;
    socket?.close();
    this.root.hidden = true;
    this.renderButton();
  }

  connect() {
    const socket = new WebSocket(socketUrl("/ws/follow"));
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.attempt = 0;
      this.setStatus("live");
    });
    socket.addEventListener("message", (message) => {
      if (this.socket === socket) this.apply(JSON.parse(message.data));
    });
    socket.addEventListener("close", () => {
      if (this.socket !== socket) return; // closed on purpose
      this.setStatus("reconnecting…");
      setTimeout(() => { if (this.socket === socket) this.connect(); },
        RETRY_MS[Math.min(this.attempt++, RETRY_MS.length - 1)]);
    });
  }

  setStatus(text) {
    this.el.status.textContent = text;
    this.el.status.dataset.status = text;
  }

  /** One message from the hub: a snapshot of everything, or one change. */
  apply(event) {
    const state = this.state;
    switch (event.type) {
      case "snapshot":
        this.state = { ...event };
        this.renderAll();
        return;
      case "live":
        state.live = event.live;
        if (event.live) this.setStatus("live");
        else {
          this.setStatus("the presenter stopped");
          this.el.run.textContent = "Nobody is presenting now: their app is no longer shared.";
          this.el.run.dataset.state = "stopped";
        }
        return;
      case "open":
        if (event.slug !== state.slug) delete state.exchange; // another snippet's answer
        Object.assign(state, event);
        this.renderAll();
        return;
      case "edit":
        state.files = { ...state.files, [event.path]: event.text };
        Object.assign(state, { path: event.path, cursor: event.cursor, scroll: event.scroll });
        this.renderCode();
        return;
      case "view":
        Object.assign(state, { path: event.path, cursor: event.cursor, scroll: event.scroll });
        if (this.shownPath !== event.path) this.renderCode();
        else this.renderView();
        return;
      case "run":
        state.run = event;
        this.renderRun();
        return;
      case "exchange":
        this.renderExchange(event, state.exchange);
        state.exchange = event;
        return;
      case "watch":
        state.watch = event;
        this.renderWatch();
        return;
      default: // keepalive
    }
  }

  renderAll() {
    const { title, live } = this.state;
    this.el.title.textContent = title ?? "";
    if (live === false) this.setStatus("no presenter right now");
    this.renderCode();
    this.renderRun();
    this.renderWatch();
    this.diff.hidden = true;
    if (this.state.exchange) this.renderExchange(this.state.exchange, null);
    else this.el.exchange.hidden = true;
  }

  renderCode() {
    const { files = {}, path } = this.state;
    this.el.tabs.replaceChildren(...Object.keys(files).map((p) => {
      const tab = document.createElement("span");
      tab.className = "file-tab";
      tab.textContent = p.split("/").pop(); // as the editor labels them; the path on hover
      tab.title = p;
      tab.setAttribute("aria-selected", String(p === path));
      return tab;
    }));
    const text = files[path] ?? "";
    const version = ++this.version;
    const lines = text.split("\n");
    // Plain at once, colours after a pause: typing must never wait for the highlighter.
    this.el.text.innerHTML = lines.map(escapeHtml).join("\n") + "\n";
    this.el.gutter.innerHTML = lines.map((_, i) => `<div>${i + 1}</div>`).join("");
    this.shownPath = path;
    clearTimeout(this.highlightTimer);
    this.highlightTimer = setTimeout(async () => {
      const html = await highlight(text, languageFor(path ?? ""));
      if (version === this.version) this.el.text.innerHTML = `${html}\n`;
    }, HIGHLIGHT_DELAY_MS);
    this.renderView();
  }

  /** The presenter's caret and scroll position, in lines and characters. */
  renderView() {
    const { files = {}, path, cursor = [0, 0], scroll = {} } = this.state;
    const before = (files[path] ?? "").slice(0, cursor[1]).split("\n");
    this.el.caret.style.setProperty("--line", before.length - 1);
    this.el.caret.style.setProperty("--column", before.at(-1).length);
    const lineHeight = this.el.text.scrollHeight / Math.max(1, (files[path] ?? "").split("\n").length + 1);
    const view = this.el.scroll;
    view.scrollTop = (scroll.top ?? 0) * lineHeight;
    view.scrollLeft = (scroll.left ?? 0) * 0.6 * this.size;
    // At a bigger size than the presenter's, their top line may leave their caret out of sight.
    const caretTop = (before.length - 1) * lineHeight;
    if (caretTop < view.scrollTop || caretTop + lineHeight > view.scrollTop + view.clientHeight) {
      view.scrollTop = caretTop - view.clientHeight / 2;
    }
  }

  renderWatch() {
    this.el.watch.hidden = !this.state.watch?.on;
  }

  renderRun() {
    const run = this.state.run;
    if (!run) {
      this.el.run.textContent = "The presenter has not run this yet.";
      return;
    }
    const error = run.error ? `: ${run.error.type}: ${run.error.message}` : "";
    this.el.run.textContent = `The presenter's app is ${run.state}${error}`;
    this.el.run.dataset.state = run.state;
  }

  renderExchange(exchange, previous) {
    const { request, response } = exchange;
    this.el.exchange.hidden = false;
    this.el.requestLine.textContent = `${request.method} ${request.path}`;
    this.el.responseStatus.textContent = `${response.status} ${response.reason}`;
    this.el.responseStatus.dataset.class = `${String(response.status)[0]}xx`;
    this.el.response.textContent = response.body_base64 ? `(binary body, ${response.size} bytes)` : response.body;
    const same = previous && previous.request.method === request.method && previous.request.path === request.path;
    this.diff.hidden = !same;
    if (same) renderDiff(this.diff, previous.response, response);
  }

  async sendOwn() {
    const request = { method: this.el.method.value.trim().toUpperCase() || "GET",
      path: this.el.path.value.trim() || "/", headers: {}, body: null };
    this.el.ownStatus.textContent = `${request.method} ${request.path} …`;
    try {
      const answer = await api("POST", "/api/presenter/requests", request);
      this.el.ownStatus.textContent = `${answer.status} ${answer.reason}`;
      this.el.ownStatus.dataset.class = `${String(answer.status)[0]}xx`;
      this.el.ownBody.textContent = answer.body_base64 ? `(binary body, ${answer.size} bytes)` : answer.body;
      this.el.ownCookies.textContent = answer.cookies.length
        ? `your cookies: ${answer.cookies.map((c) => c.name).join(", ")}` : "";
    } catch (error) {
      this.el.ownStatus.textContent = error.message;
      this.el.ownStatus.dataset.class = "error";
      this.el.ownBody.textContent = "";
      this.el.ownCookies.textContent = "";
    }
  }

  /** The presenter's code, now the visitor's own: their editor, their sandbox. */
  async fork() {
    const { files, slug, title } = this.state;
    if (!files) return;
    if (!(await this.onFork({ ...files }, { slug, title }))) return; // they kept their own edits
    this.forked = true;
    this.unfollow();
  }
}
