// New file, Rename and Delete for the editor's files: the buttons in the editor's bar, F2 and
// Delete on a file tab, a double click on a tab to rename. A name is asked for in a small form
// in the bar (Enter to confirm, Esc to cancel) and checked as the host would check it.
import { fileNameProblem } from "./editor.js";

export class FileActions {
  /** editor: the page's Editor; the elements of the bar and of its naming form. */
  constructor(editor, { newButton, renameButton, deleteButton, form }) {
    this.editor = editor;
    this.form = form;
    this.input = form.querySelector("input");
    this.label = form.querySelector(".file-namer-label");
    this.error = form.querySelector(".error-text");
    this.renaming = null; // the path being renamed, or null for a new file
    this.buttons = { renameButton, deleteButton };
    newButton.addEventListener("click", () => this.ask(null));
    renameButton.addEventListener("click", () => this.ask(editor.active?.path));
    deleteButton.addEventListener("click", () => this.remove(editor.active?.path));
    editor.tabs.addEventListener("dblclick", (event) => {
      const tab = event.target.closest("[role=tab]");
      if (tab) this.ask(tab.dataset.path);
    });
    editor.tabs.addEventListener("keydown", (event) => {
      const tab = event.target.closest("[role=tab]");
      if (!tab) return;
      if (event.key === "F2") this.ask(tab.dataset.path);
      else if (event.key === "Delete") this.remove(tab.dataset.path);
      else return;
      event.preventDefault();
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.done();
    });
    form.querySelector(".cancel").addEventListener("click", () => this.close());
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        this.close();
      }
    });
    this.input.addEventListener("input", () => { this.error.textContent = ""; });
  }

  /** app.py is what runs: it keeps its name. */
  static fixed(path) {
    return path === "app.py";
  }

  /** The active file changed: Rename and Delete say whether they apply to it. */
  update() {
    const path = this.editor.active?.path;
    for (const button of Object.values(this.buttons)) {
      button.disabled = !path || FileActions.fixed(path);
      button.title = button.disabled ? "app.py is what runs: it keeps its name and cannot be deleted"
        : `${button.dataset.verb} ${path}${button.dataset.verb === "Rename" ? " (F2, or a double click on its tab)" : " (Delete on its tab)"}`;
    }
  }

  /** Opens the form: a name for a new file (`path` null), or a new name for `path`. */
  ask(path) {
    if (path && FileActions.fixed(path)) return;
    this.renaming = path;
    this.label.textContent = path ? `Rename ${path} to` : "New file";
    this.input.value = path ?? "";
    this.input.placeholder = "templates/page.html";
    this.error.textContent = "";
    this.form.hidden = false;
    this.input.focus();
    this.input.select();
  }

  done() {
    const name = this.input.value.trim();
    const others = this.editor.paths.filter((p) => p !== this.renaming);
    const problem = name === this.renaming ? null : fileNameProblem(name, others);
    if (problem) {
      this.error.textContent = problem;
      this.input.focus();
      return;
    }
    const renaming = this.renaming;
    this.close({ focus: false });
    if (renaming) this.editor.rename(renaming, name);
    else this.editor.add(name);
    this.editor.focus();
  }

  close({ focus = true } = {}) {
    this.form.hidden = true;
    this.renaming = null;
    if (focus) this.editor.focus();
  }

  remove(path) {
    if (!path || FileActions.fixed(path)) return;
    if (!confirm(`Delete ${path}? Its text goes with it (Reset brings back the talk's own files).`)) return;
    this.editor.remove(path);
  }
}
