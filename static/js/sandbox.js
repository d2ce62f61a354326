// The visitor's sandbox for the open snippet: run (start or restart), stop, and
// the state badge. Run reuses the same sandbox id, so its cookie jar and event log
// carry over between runs of one snippet.
import { api } from "./api.js";

const LABELS = {
  idle: () => "not running",
  starting: () => "starting…",
  running: (s) => `running on port ${s.port}${s.scheme === "https" ? " (https)" : ""}`,
  failed: () => "failed",
  stopped: (s) => (s.exit_status === null || s.exit_status === undefined
    ? "stopped" : `stopped (exit status ${s.exit_status})`),
};

export class Sandbox {
  /** onChange(info) is called with the sandbox object after every change of state. */
  constructor({ badge, isolation, stopButton, onChange }) {
    this.badge = badge;
    this.isolation = isolation;
    this.stopButton = stopButton;
    this.onChange = onChange;
    this.info = { state: "idle" };
    this.running = null; // the run under way, so Send can wait for it
  }

  get id() {
    return this.info.id ?? null;
  }

  get isRunning() {
    return this.info.state === "running";
  }

  run(files) {
    this.running = this.start(files).finally(() => { this.running = null; });
    return this.running;
  }

  async start(files) {
    this.apply({ state: "starting", error: null });
    let info = null;
    if (this.id) {
      try {
        info = await api("PUT", `/api/sandboxes/${this.id}`, { files });
      } catch (error) {
        if (error.status !== 404) throw this.fail(error);
        this.info = { state: "starting" }; // gone (reaped, or the host restarted): start afresh
      }
    }
    if (!info) {
      try {
        info = await api("POST", "/api/sandboxes", { files });
      } catch (error) {
        throw this.fail(error);
      }
    }
    this.apply(info);
    return info;
  }

  fail(error) {
    this.apply({ state: "failed", error: { type: "Could not start the app", message: error.message } });
    return error;
  }

  /** Starts the sandbox unless it runs already (or is starting). */
  async ensureRunning(files) {
    if (this.running) await this.running;
    if (!this.isRunning) await this.run(files);
  }

  async stop() {
    if (!this.id) return;
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
    this.stopButton.hidden = !["running", "starting"].includes(state) || !this.id;
    const { isolation, warning } = this.info;
    this.isolation.textContent = isolation === "process" ? "⚠ not isolated" : "";
    this.isolation.title = warning ?? "";
    this.badge.title = warning ?? "";
  }
}
