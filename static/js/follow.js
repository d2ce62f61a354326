// Follow and fork: any visitor sees when a presenter is live and can follow a
// read-only mirror of their editor (cursor and scroll included), their app's live log
// and their last request and response, with the diff against the previous run. A follower
// may send requests of their own to the presenter's app (their own cookies), or
// fork: copy the presenter's code into their own editor and run it there.
//
// The mirror is made of the page's own parts: a read-only Editor, a LiveLog, ResponseViews and
// the watch mode's DiffView; this module only keeps the room's state and feeds them.
import { api } from "./api.js";
import { el } from "./dom.js";
import { Editor } from "./editor.js";
import { renderError } from "./errors.js";
import { LiveLog } from "./live.js";
import { ResponseView } from "./response.js";
import { LiveSocket } from "./socket.js";
import { DiffView } from "./watch.js";

const FOLLOWING = "playground:following"; // sessionStorage: this tab follows, across reloads

export class FollowMode {
  /** onFork(files, {slug, title, app}) opens the presenter's code in the visitor's own editor (false
   * if the visitor said no); onFollow() when the mirror opens. */
  constructor({ root, button, onFork, onFollow }) {
    this.root = root;
    this.button = button;
    this.onFork = onFork;
    this.onFollow = onFollow;
    const $ = (id) => root.querySelector(`#${id}`);
    this.el = {
      title: $("follow-title"), status: $("follow-status"), run: $("follow-run"), watch: $("follow-watch"),
      exchange: $("follow-exchange"), requestLine: $("follow-request-line"), method: $("follow-method"),
      path: $("follow-path"), own: $("follow-own"),
    };
    this.editor = new Editor({ host: $("follow-code"), tabs: $("follow-tabs"), readOnly: true, testid: null });
    this.caret = el("div", { className: "follow-caret", id: "follow-caret", "aria-hidden": "true" });
    const views = { onNavigate: (request) => this.sendOwn(request), showException: (box, error) => this.showError(box, error) };
    this.response = new ResponseView($("follow-response-panel"), { prefix: "follow-response", ...views });
    this.ownResponse = new ResponseView($("follow-own-panel"), { prefix: "follow-own", ...views });
    this.diff = new DiffView($("follow-response-status").closest(".status-line"), "follow-diff");
    this.log = new LiveLog("follow-log");
    this.state = {};
    this.socket = null;
    this.live = false;
    this.presenting = false; // this page is the presenter's: nobody to follow
    this.forked = false;

    button.addEventListener("click", () => this.follow());
    $("follow-close").addEventListener("click", () => this.unfollow());
    $("follow-fork").addEventListener("click", () => this.fork());
    $("follow-request-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.sendOwn({ method: this.el.method.value.trim().toUpperCase() || "GET",
        path: this.el.path.value.trim() || "/", headers: {}, body: null });
    });
    // Whether a presenter is live: a small socket every page keeps open.
    this.presence = new LiveSocket("/ws/follow?presence=1", {
      onMessage: (event) => {
        if (event.type !== "live") return;
        this.live = event.live;
        // Following when the page was reloaded: follow again (this tab only).
        if (event.live && sessionStorage.getItem(FOLLOWING) && !this.following && !this.presenting) this.follow();
        this.renderButton();
      },
      onDrop: () => {
        this.live = false;
        this.renderButton();
      },
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

  follow() {
    sessionStorage.setItem(FOLLOWING, "1");
    this.onFollow();
    this.root.hidden = false;
    this.setBehindInert(true); // the mirror covers the page: Tab stays in the mirror
    this.socket = new LiveSocket("/ws/follow", {
      onOpen: () => this.setStatus("live"),
      onMessage: (event) => this.apply(event),
      onDrop: () => this.setStatus("reconnecting…"),
    });
    this.log.followPresenter();
    this.renderButton();
    this.root.querySelector("#follow-close").focus();
  }

  unfollow() {
    sessionStorage.removeItem(FOLLOWING);
    this.socket?.close();
    this.socket = null;
    this.log.disconnect();
    this.root.hidden = true;
    this.setBehindInert(false);
    this.renderButton();
  }

  setBehindInert(inert) {
    for (const node of document.body.children) if (node !== this.root) node.inert = inert;
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
        this.renderCode();
        return;
      case "run":
        state.run = event;
        this.renderRun();
        return;
      case "exchange":
        state.exchange = event;
        this.renderExchange();
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
    this.diff.clear();
    if (this.state.exchange) this.renderExchange();
    else this.el.exchange.hidden = true;
  }

  renderCode() {
    const { files = {}, path } = this.state;
    if (!Object.keys(files).length) return;
    this.editor.mirror(files, path);
    this.renderView();
  }

  /** The presenter's caret and scroll position, in lines and characters. */
  renderView() {
    const view = this.editor.active;
    this.caret.hidden = !view?.textarea; // a binary file has no caret
    if (!view?.textarea) return;
    const { cursor = [0, 0], scroll = {} } = this.state;
    const before = view.text.slice(0, cursor[1]).split("\n");
    this.caret.style.setProperty("--line", before.length - 1);
    this.caret.style.setProperty("--column", before.at(-1).length);
    this.caret.hidden = view.path !== this.state.path; // the follower looks at another file
    view.layer.append(this.caret);
    view.scrollTo(scroll);
    // At a bigger size than the presenter's, their top line may leave their caret out of sight.
    const ta = view.textarea;
    const caretTop = (before.length - 1) * view.lineHeight;
    if (caretTop < ta.scrollTop || caretTop + view.lineHeight > ta.scrollTop + ta.clientHeight) {
      ta.scrollTop = caretTop - ta.clientHeight / 2;
    }
  }

  renderWatch() {
    this.el.watch.hidden = !this.state.watch?.on;
  }

  renderRun() {
    const run = this.state.run;
    this.log.showRuntime(run?.runtime);
    if (!run) {
      this.el.run.textContent = "The presenter has not run this yet.";
      return;
    }
    // Another app of the presenter's: its log now, not at the socket's next try.
    if (run.state === "running") this.log.retryNow();
    const error = run.error ? `: ${run.error.type}: ${run.error.message}` : "";
    this.el.run.textContent = `The presenter's app is ${run.state}${error}`;
    this.el.run.dataset.state = run.state;
  }

  renderExchange() {
    const { request, response } = this.state.exchange;
    this.el.exchange.hidden = false;
    this.el.requestLine.textContent = `${request.method} ${request.path}`;
    this.response.show(response, request);
    this.diff.show(request, response);
  }

  showError(box, error) {
    renderError(box, error, {
      heading: "Exception in a route",
      locate: (file) => this.editor.pathFor(file),
      onGoto: (path, line) => this.editor.reveal(path, line),
    });
  }

  /** A request of the follower's own to the presenter's app: their own cookies. */
  async sendOwn(request) {
    this.el.method.value = request.method;
    this.el.path.value = request.path;
    this.el.own.hidden = false;
    this.ownResponse.pending(request);
    try {
      const answer = await api("POST", "/api/presenter/requests", request);
      this.ownResponse.show(answer, request);
      if (answer.cookies.length) this.ownResponse.meta.append(` · your cookies: ${answer.cookies.map((c) => c.name).join(", ")}`);
    } catch (error) {
      this.ownResponse.failed(error.message);
    }
  }

  /** The presenter's code, now the visitor's own: their editor, their sandbox. */
  async fork() {
    const { files, slug, title, app } = this.state;
    if (!files) return;
    if (!(await this.onFork({ ...files }, { slug, title, app }))) return; // they kept their own edits
    this.forked = true;
    this.unfollow();
  }
}
