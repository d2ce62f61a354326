// The flask command line under the live log: Enter runs `flask <args>` for the running app,
// inside its sandbox (POST /api/sandboxes/<id>/commands), and shows the output, exit code and
// time; the child prints the output to the live log as well. A line is read as a shell reads it
// (quotes included), with or without `flask` first; ↑ and ↓ bring back earlier lines, kept in
// this browser like a shell's history.
import { api } from "./api.js";
import { el } from "./dom.js";
import { humanMs } from "./response.js";
import { ShellError, shellWords } from "./shell.js";
import { load, save } from "./storage.js";

const HISTORY_KEY = "commandHistory";
const MAX_HISTORY = 100;

/** The arguments of `flask` in a typed line. Throws ShellError for what only a shell could run. */
export function commandArgs(line) {
  const { words, rest } = shellWords(line.trim().replace(/^\$\s+/, "")); // a prompt copied with it
  if (rest) {
    throw new ShellError(`only the flask command runs here, not a shell: “${rest}” (a pipe, a chain or a redirection) is not run.`);
  }
  if (words[0] === "flask") words.shift();
  return words;
}

export class CommandLine {
  /**
   * form and input: the command line; output: where each command's result goes; sandbox: the
   * page's Sandbox (its id, whether it runs, the run under way).
   */
  constructor({ form, input, output, sandbox }) {
    this.input = input;
    this.output = output;
    this.sandbox = sandbox;
    this.history = load(HISTORY_KEY, []);
    this.recalled = this.history.length; // where ↑ and ↓ are in the history; its length: the draft
    this.draft = "";
    this.busy = false;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "ArrowUp" || event.key === "ArrowDown") {
        event.preventDefault();
        this.recall(event.key === "ArrowUp" ? -1 : 1);
      } else if (event.key === "Escape" && !this.output.hidden) {
        this.output.hidden = true; // the live log keeps it
      } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault(); // here Ctrl+Enter runs the command, not the app
        event.stopPropagation();
        this.submit();
      }
    });
  }

  /** Another snippet: the last result was its app's. */
  clear() {
    this.output.hidden = true;
    this.output.replaceChildren();
  }

  /** ↑ (-1) or ↓ (+1) through the lines run before; past the newest, what was being typed. */
  recall(step) {
    const to = Math.min(Math.max(this.recalled + step, 0), this.history.length);
    if (to === this.recalled) return;
    if (this.recalled === this.history.length) this.draft = this.input.value;
    this.recalled = to;
    this.input.value = to === this.history.length ? this.draft : this.history[to];
    this.input.setSelectionRange(this.input.value.length, this.input.value.length);
  }

  remember(line) {
    if (this.history.at(-1) !== line) this.history.push(line);
    this.history = this.history.slice(-MAX_HISTORY);
    save(HISTORY_KEY, this.history);
    this.recalled = this.history.length;
    this.draft = "";
  }

  async submit() {
    const line = this.input.value.trim();
    if (!line || this.busy) return;
    let args;
    try {
      args = commandArgs(line);
    } catch (error) {
      if (!(error instanceof ShellError)) throw error;
      this.show(line, { refused: `Not run: ${error.message}` });
      return;
    }
    this.remember(line);
    const shown = `flask ${line.replace(/^\$\s+/, "").replace(/^flask(\s+|$)/, "")}`.trim();
    this.busy = true;
    this.show(shown, { running: true });
    try {
      await this.sandbox.running?.catch(() => {}); // a run under way: the command waits for it
      if (!this.sandbox.isRunning) {
        this.show(shown, { refused: "Not run: the app is not running. Commands run inside the running app (its files, its instance folder): press Run first." });
        return;
      }
      const done = await api("POST", `/api/sandboxes/${encodeURIComponent(this.sandbox.id)}/commands`, { args });
      this.input.value = "";
      this.show(shown, { done });
    } catch (error) {
      // The line stays in the field: Enter tries it again.
      this.show(shown, { refused: `Not run: ${error.message.replace(/^./, (c) => c.toUpperCase())}` });
    } finally {
      this.busy = false;
    }
  }

  /** The result of `shown` (the command as typed): running, refused (a sentence) or done. */
  show(shown, { running = false, refused = null, done = null }) {
    const close = el("button", { type: "button", className: "small icon", "aria-label": "Close the output", title: "Close (the live log keeps it)" }, "×");
    close.addEventListener("click", () => {
      this.output.hidden = true;
      this.input.focus();
    });
    let result = null;
    let body = null;
    if (running) {
      result = el("span", { className: "command-result" }, "running…");
    } else if (refused) {
      result = el("span", { className: "command-result error-text" }, refused);
    } else {
      const ok = done.exit_code === 0;
      result = el("span", { className: "command-result", "data-exit": ok ? "0" : "error" },
        `exit code ${done.exit_code} · ${humanMs(done.elapsed_ms)}${done.truncated ? " · output cut: the live log has it all" : ""}`);
      body = el("pre", { className: "command-text", tabIndex: 0 }, done.output || "(no output)");
    }
    this.output.replaceChildren(el("div", { className: "command-head" }, el("code", {}, `$ ${shown}`), result, close));
    if (body) this.output.append(body);
    this.output.hidden = false;
  }
}
