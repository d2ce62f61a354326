// Presenter mode: with the presenter token, this page's editor is broadcast to
// followers over /ws/present: the snippet opened, each edit (the whole file,
// debounced) with cursor and scroll, and the watch toggle. Runs, requests and
// responses are reported by the host itself, so nothing here sends them.
import { api } from "./api.js";
import { LiveSocket } from "./socket.js";

const DEBOUNCE_MS = 30;

export class PresenterMode {
  /**
   * editor: the page's Editor; current(): {slug, title} of what is open; watching(): the watch
   * toggle; onChange(presenting) when this page starts or stops presenting.
   */
  constructor({ button, dialog, editor, current, watching, onChange = () => {} }) {
    this.button = button;
    this.dialog = dialog;
    this.editor = editor;
    this.current = current;
    this.watching = watching;
    this.onChange = onChange;
    this.socket = null;
    this.presenting = false;
    this.pending = null; // "edit" or "view": what the next debounced message is
    this.timer = null;
    this.sentApp = null; // the App field followers last heard of
    const $ = (id) => dialog.querySelector(`#${id}`);
    this.token = $("present-token");
    this.error = $("present-error");
    button.addEventListener("click", () => (this.presenting ? this.stop() : this.ask()));
    $("present-cancel").addEventListener("click", () => dialog.close());
    $("present-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.start(this.token.value.trim());
    });

    // Edits and file switches come from the page (changed(), opened()): undo and indenting fire no
    // input event.
    const host = editor.host;
    host.addEventListener("scroll", () => this.changed("view"), true);
    host.addEventListener("click", () => this.changed("view"));
    host.addEventListener("keyup", () => this.changed("view"));
    document.addEventListener("selectionchange", () => {
      if (host.contains(document.activeElement)) this.changed("view");
    });
    this.resume();
  }

  /** After a reload the host still knows this visitor as the presenter. */
  async resume() {
    const status = await api("GET", "/api/presenter").catch(() => null);
    if (status?.presenting) this.connect();
  }

  ask() {
    this.error.textContent = "";
    this.dialog.showModal();
    this.token.focus();
  }

  async start(token) {
    try {
      await api("POST", "/api/presenter", { token });
    } catch (error) {
      this.error.textContent = error.message;
      return;
    }
    this.dialog.close();
    this.connect();
  }

  async stop() {
    this.stopped();
    await api("DELETE", "/api/presenter").catch(() => {});
  }

  connect() {
    if (this.socket) return;
    this.presenting = true;
    this.render();
    this.socket = new LiveSocket("/ws/present", {
      onOpen: () => {
        this.opened();
        this.sendWatch();
      },
      onMessage: () => {}, // the host only says why it closes
      // Someone took over with the token, or the host restarted: ask it which.
      retry: async () => {
        const status = await api("GET", "/api/presenter").catch(() => null);
        if (!status?.presenting) this.stopped();
        return Boolean(status?.presenting);
      },
    });
  }

  stopped() {
    this.presenting = false;
    this.socket?.close();
    this.socket = null;
    this.render();
  }

  render() {
    this.button.textContent = this.presenting ? "■ Stop presenting" : "Present";
    this.button.classList.toggle("is-live", this.presenting);
    this.button.dataset.presenting = String(this.presenting);
    this.onChange(this.presenting);
  }

  send(message) {
    this.socket?.send(message);
  }

  /** A snippet (or other files) was opened: followers get all of its files. */
  opened() {
    if (!this.presenting || !this.editor.active) return;
    const { slug, title, app } = this.current();
    this.sentApp = app;
    this.send({ type: "open", slug, title, app, files: this.editor.files, ...this.view() });
  }

  /** The App field was left or Enter pressed in it: followers hear of a new value (with the
   * files, as an "open": their fork runs with it). */
  appCommitted() {
    if (this.presenting && this.current().app !== this.sentApp) this.opened();
  }

  sendWatch() {
    this.send({ type: "watch", on: this.watching() });
  }

  /** Typing or moving: one message per DEBOUNCE_MS, an edit winning over a cursor move. */
  changed(kind) {
    if (!this.presenting || !this.editor.active) return;
    if (this.pending !== "edit") this.pending = kind;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      const message = { type: this.pending, ...this.view() };
      if (this.pending === "edit") message.text = this.editor.active.text;
      this.pending = null;
      this.send(message);
    }, DEBOUNCE_MS);
  }

  /** The open file, the cursor [start, end] and the scroll position in lines and characters. */
  view() {
    const { path, textarea } = this.editor.active;
    if (!textarea) return { path, cursor: [0, 0], scroll: { top: 0, left: 0 } }; // a binary file
    const style = getComputedStyle(textarea);
    const lineHeight = parseFloat(style.lineHeight) || 1.5 * parseFloat(style.fontSize);
    const charWidth = 0.6 * parseFloat(style.fontSize); // near enough for a monospace font
    return {
      path,
      cursor: [textarea.selectionStart, textarea.selectionEnd],
      scroll: { top: textarea.scrollTop / lineHeight, left: textarea.scrollLeft / charWidth },
    };
  }
}
