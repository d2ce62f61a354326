// The editor's Format button (and Shift+Alt+F): a Python file laid out by the host's formatter
// (POST /api/format, ruff in Black's style), as one step Ctrl+Z takes back. Code that does not
// parse stays exactly as it is, and the message names the line that stops it.
import { api } from "./api.js";
import { el } from "./dom.js";

export class CodeFormat {
  /** editor: the page's Editor; button: Format; message: where a refusal is said. */
  constructor(editor, { button, message }) {
    this.editor = editor;
    this.button = button;
    this.message = message;
    button.addEventListener("click", () => this.format());
  }

  /** The shown file changed: Format says whether it applies, and what was said goes. */
  update() {
    this.enable();
    this.message.hidden = true;
  }

  enable() {
    const path = this.editor.active?.path ?? "";
    this.button.disabled = !path.endsWith(".py");
    this.button.title = this.button.disabled ? "Format lays out Python files (.py)"
      : `Lay out ${path} as Black does, with ruff (Shift+Alt+F)`;
  }

  async format() {
    const view = this.editor.active;
    if (!view || this.button.disabled) return;
    const { path, text } = view;
    this.message.hidden = true;
    this.button.disabled = true;
    let answer = null;
    try {
      answer = await api("POST", "/api/format", { code: text, language: "python" });
    } catch (error) {
      this.refused(path, error);
    } finally {
      this.enable(); // for the file shown now
    }
    // Typed into meanwhile: the newer text wins, as it would in an editor.
    if (!answer || this.editor.active !== view || view.text !== text) return;
    if (answer.changed) this.editor.replaceText(answer.code);
    this.say(el("span", {}, answer.changed ? `Formatted ${path} (Ctrl+Z takes it back).` : `${path} is formatted already.`), "done");
    this.editor.focus();
  }

  refused(path, error) {
    const line = error.details?.line;
    const where = line ? el("button", { type: "button", className: "link" }, `Show line ${line}`) : null;
    where?.addEventListener("click", () => this.editor.reveal(path, line));
    this.say(el("span", {}, error.code === "cannot_format" ? `Cannot format ${path}: ` : "Cannot format now: ",
      error.message, where ? " " : "", where ?? ""), "error");
  }

  /** The file was edited: what was said is old now. */
  edited() {
    this.message.hidden = true;
  }

  say(content, kind) {
    this.message.replaceChildren(content);
    this.message.dataset.kind = kind;
    this.message.hidden = false;
  }
}
