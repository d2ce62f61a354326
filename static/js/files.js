// New file, Add from disk, Rename and Delete for the editor's files: the buttons in the
// editor's bar, F2 and Delete on a file tab, a double click on a tab to rename. A name is asked
// for in a small form in the bar (Enter to confirm, Esc to cancel) and checked as the host would
// check it. A file from disk is added as text, or as binary when it is not text (binary.js).
import { readFile, typeOf, valueOfBytes } from "./binary.js";
import { fileNameProblem } from "./editor.js";

export class FileActions {
  /** editor: the page's Editor; the elements of the bar and of its naming form. */
  constructor(editor, { newButton, uploadButton, uploadInput, renameButton, deleteButton, form }) {
    this.editor = editor;
    this.form = form;
    this.input = form.querySelector("input");
    this.label = form.querySelector(".file-namer-label");
    this.error = form.querySelector(".error-text");
    this.renaming = null; // the path being renamed, or null for a new file
    this.adding = null; // the content of a file from disk being named, or null
    this.buttons = { renameButton, deleteButton };
    newButton.addEventListener("click", () => this.ask(null));
    uploadButton.addEventListener("click", () => uploadInput.click());
    uploadInput.addEventListener("change", async () => {
      const file = uploadInput.files[0];
      uploadInput.value = "";
      if (file) this.ask(null, { name: suggestedPath(file.name), value: valueOfBytes(await readFile(file)) });
    });
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

  /** A snippet keeps one file at least. Any may be renamed or deleted, app.py too: the host
   * finds the app as `flask run` does, or as the App field says. */
  get lastFile() {
    return this.editor.paths.length <= 1;
  }

  /** The active file changed: Rename and Delete say whether they apply to it. */
  update() {
    const path = this.editor.active?.path;
    const { renameButton, deleteButton } = this.buttons;
    renameButton.disabled = !path;
    deleteButton.disabled = !path || this.lastFile;
    for (const button of [renameButton, deleteButton]) {
      button.title = !path ? "" : button.disabled ? "The only file of the snippet stays: add another first"
        : `${button.dataset.verb} ${path}${button === renameButton ? " (F2, or a double click on its tab)" : " (Delete on its tab)"}`;
    }
  }

  /** Opens the form: a name for a new file (`path` null; with `adding`, one read from disk), or
   * a new name for `path`. */
  ask(path, adding = null) {
    this.renaming = path;
    this.adding = adding?.value ?? null;
    this.label.textContent = path ? `Rename ${path} to` : adding ? "Add the file as" : "New file";
    this.input.value = path ?? adding?.name ?? "";
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
    const { renaming, adding } = this;
    this.close({ focus: false });
    if (renaming) this.editor.rename(renaming, name);
    else this.editor.add(name, adding ?? "");
    this.editor.focus();
  }

  close({ focus = true } = {}) {
    this.form.hidden = true;
    this.renaming = null;
    this.adding = null;
    if (focus) this.editor.focus();
  }

  remove(path) {
    if (!path || this.lastFile) return;
    if (!confirm(`Delete ${path}? Its text goes with it (Reset brings back the talk's own files).`)) return;
    this.editor.remove(path);
  }
}

/** Where a file from disk usually goes in a Flask app: images, fonts, stylesheets and scripts in
 * static/, pages in templates/, the rest (modules, data) at the top. */
function suggestedPath(name) {
  const ext = name.split(".").pop().toLowerCase();
  if (/^(image|font)\//.test(typeOf(name)) || ["css", "js", "svg"].includes(ext)) return `static/${name}`;
  if (["html", "htm", "jinja", "j2"].includes(ext)) return `templates/${name}`;
  return name;
}
