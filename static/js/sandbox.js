// The visitor's sandbox for the open snippet: run (start or restart), stop, and the state badge.
// Run reuses the same sandbox id, so its cookie jar and event log carry over between runs of one
// snippet.
//
// A run the host refuses is not a failure of the code: the badge reads "waiting" when the host
// says when to try again (the run then starts by itself at that time), "refused" when the
// visitor must act first (they have as many apps as one person may: the panel names them, each
// with a Stop button, and the run starts once one is stopped).
import { api } from "./api.js";
import { el } from "./dom.js";

const LABELS = {
  idle: () => "not running",
  starting: () => "starting…",
  running: (s) => `running on port ${s.port}${s.scheme === "https" ? " (https)" : ""}`,
  failed: () => "failed",
  stopped: (s) => (s.exit_status === null || s.exit_status === undefined
    ? "stopped" : `stopped (exit status ${s.exit_status})`),
  waiting: () => "waiting",
  refused: () => "refused",
};

// Why the host would not start the run, in plain words, by the error's code.
const REASONS = {
  rate_limited: "You started a lot of runs in a short time, and the playground spreads each person's runs out.",
  playground_busy: "The playground is busy starting other people's apps.",
  playground_full: "The playground is full: everyone's apps together take all the room it has.",
};

export class Sandbox {
  /**
   * onChange(info) is called with the sandbox object after every change of state; retry() runs
   * again when a refusal's wait is over or one of the visitor's other apps was stopped.
   */
  constructor({ badge, isolation, stopButton, refusal, onChange, retry }) {
    this.badge = badge;
    this.isolation = isolation;
    this.stopButton = stopButton;
    this.refusal = refusal;
    this.onChange = onChange;
    this.retry = retry;
    this.info = { state: "idle" };
    this.running = null; // the run under way, so Send can wait for it
    this.retryTimer = null;
    this.ticker = null;
  }

  get id() {
    return this.info.id ?? null;
  }

  get isRunning() {
    return this.info.state === "running";
  }

  /**
   * Runs `files`; `label` (the snippet's title) is how the host names the app back, `app` which
   * app to run as `flask --app` takes it ("" to look for it), and `resetData` throws away what
   * earlier runs wrote (a new sandbox has none anyway).
   */
  run(files, label, { app = "", resetData = false } = {}) {
    this.running = this.start({ files, label, app }, resetData).finally(() => { this.running = null; });
    return this.running;
  }

  async start(wanted, resetData) {
    this.cancelRetry();
    this.apply({ state: "starting", error: null });
    let info = null;
    if (this.id) {
      try {
        info = await api("PUT", `/api/sandboxes/${this.id}`, { ...wanted, reset_data: resetData });
      } catch (error) {
        if (error.status !== 404) throw this.fail(error);
        this.info = { state: "starting" }; // gone (reaped, or the host restarted): start afresh
      }
    }
    if (!info) {
      try {
        info = await api("POST", "/api/sandboxes", wanted);
      } catch (error) {
        throw this.fail(error);
      }
    }
    this.apply(info);
    return info;
  }

  /** The state a failed call leaves: refused or waiting when the host said no, else failed. */
  fail(error) {
    if (error.status === 429 || error.status === 503) this.refuse(error);
    else this.apply({ state: "failed", error: { type: "Could not start the app", message: error.message, code: error.code } });
    return error;
  }

  refuse(error) {
    const { code, sandboxes = [] } = error.details;
    const waitMs = error.retryAfter === null ? null : error.retryAfter * 1000;
    const state = code === "too_many_sandboxes" || waitMs === null ? "refused" : "waiting";
    this.apply({ state, error: null });
    const stops = sandboxes.map((app) => this.stopOther(app));
    const reason = code === "too_many_sandboxes"
      ? el("span", {}, `You already have ${sandboxes.length} ${sandboxes.length === 1 ? "app" : "apps"} running, as many as one person may: `,
        ...stops.flatMap((stop, i) => [i ? (i === stops.length - 1 ? " and " : ", ") : "", stop]),
        ". Stop one and this one runs.")
      : el("span", {}, REASONS[code] ?? error.message);
    const when = el("span", { className: "refusal-when" });
    this.refusal.replaceChildren(el("strong", {}, state === "waiting" ? "Not started yet. " : "Not started. "), reason, " ", when);
    this.refusal.hidden = false;
    if (waitMs === null) {
      if (code !== "too_many_sandboxes") when.textContent = "Press Run to try again.";
      return;
    }
    const at = Date.now() + waitMs;
    const tick = () => {
      const seconds = Math.max(0, Math.ceil((at - Date.now()) / 1000));
      when.textContent = `It starts by itself in ${seconds} s.`;
    };
    tick();
    this.ticker = setInterval(tick, 1000);
    this.retryTimer = setTimeout(() => {
      this.cancelRetry();
      this.retry();
    }, waitMs);
    this.render(); // Stop can give up the wait now
  }

  /** One of the visitor's other apps, named, with a button that stops it and runs this one. */
  stopOther({ id, label, state }) {
    const name = `${label ? `“${label}”` : "an app of yours"}${state === "running" ? "" : ` (${state})`}`;
    const button = el("button", { type: "button", className: "small", "data-testid": "stop-other",
      title: `Stop ${name}: open in another tab, or left from an earlier visit` }, "■ Stop");
    button.addEventListener("click", async () => {
      button.disabled = true;
      await api("DELETE", `/api/sandboxes/${encodeURIComponent(id)}`).catch(() => {}); // gone already: as good
      this.cancelRetry();
      this.retry();
    });
    return el("span", { className: "other-app" }, name, " ", button);
  }

  cancelRetry() {
    clearTimeout(this.retryTimer);
    clearInterval(this.ticker);
    this.retryTimer = this.ticker = null;
    this.refusal.hidden = true;
  }

  /** Stops the app, or the wait for a run that was refused. */
  async stop() {
    this.cancelRetry();
    if (!this.id) {
      this.apply({ state: "idle" }); // a run that waited: it never started
      return;
    }
    const id = this.id;
    try {
      await api("DELETE", `/api/sandboxes/${id}`);
    } catch {
      // Already gone: nothing to stop.
    }
    if (this.id === id) this.apply({ state: "stopped", exit_status: null });
  }

  /** Forgets a sandbox the host no longer has (it restarted, or reaped it). */
  lost() {
    this.info = { state: "stopped", exit_status: null };
    this.render();
    this.onChange(this.info);
  }

  /** Forgets the sandbox (another snippet was opened), stopping it on the host. */
  discard() {
    const id = this.id;
    this.cancelRetry();
    this.info = { state: "idle" };
    this.render();
    if (id) api("DELETE", `/api/sandboxes/${id}`).catch(() => {});
    this.onChange(this.info);
  }

  /** The page is going away (a reload, a closed tab): its app would only hold one of the
   * visitor's few places until the idle reaper came. `keepalive` lets the request outlive us. */
  release() {
    if (this.id) fetch(`/api/sandboxes/${encodeURIComponent(this.id)}`, { method: "DELETE", keepalive: true });
  }

  /** Merges a sandbox object or a `state` event into what we know. */
  apply(update) {
    const { type, seq, time, ...fields } = update;
    this.info = { ...this.info, ...fields };
    this.render();
    this.onChange(this.info);
  }

  render() {
    const state = this.info.state in LABELS ? this.info.state : "idle";
    this.badge.dataset.state = state;
    this.badge.textContent = LABELS[state](this.info);
    // Stop stops an app, or a run that would start by itself.
    this.stopButton.hidden = !((["running", "starting", "waiting", "refused"].includes(state) && this.id) || this.retryTimer);
    this.stopButton.title = this.retryTimer ? "Stop: do not start it by itself" : "Stop the sandbox";
    const { isolation, warning } = this.info;
    this.isolation.textContent = isolation === "process" ? "⚠ not isolated" : "";
    this.isolation.title = warning ?? "";
    this.badge.title = warning ?? "";
  }
}
