// The code editor: one tab per file of the snippet. Each file is a transparent
// <textarea> (the source of truth, so typing, selection and IME are the browser's own)
// laid exactly over a <pre> painted with Pygments HTML.
//
// Typing never waits for the host: the edited lines are repainted plain at once,
// the whole file is highlighted after a short pause, and an answer is painted only
// if the text has not changed since it was asked for. Undo and redo are the editor's
// own (undo.js), by typed runs, the indenting edits included.
//
// Files can be added, renamed and deleted; a read-only editor (the follower's mirror) shows
// someone else's files, updated from outside. A file that is not text ({base64}) gets a view of
// its own (binary.js): what it is, not its bytes as text.
import { escapeHtml, highlight, languageFor } from "./api.js";
import { BinaryView, isBinary, sameContent } from "./binary.js";
import { el } from "./dom.js";
import { TabList } from "./tabs.js";
import { UndoHistory, difference } from "./undo.js";

const INDENT = "    ";
const HIGHLIGHT_DELAY_MS = 150; // a pause in typing; the edited line shows plain meanwhile

class FileView {
  constructor(path, text, { onInput, readOnly }) {
    this.path = path;
    this.language = languageFor(path);
    this.onInput = onInput;
    this.readOnly = readOnly;
    this.version = 0;
    this.timer = null;
    this.tabLeaves = false; // after Esc, Tab moves the focus on instead of indenting
    this.history = new UndoHistory();
    this.selection = [0, 0]; // before the edit under way

    this.gutterLines = el("div", { className: "gutter-lines" });
    this.mark = el("div", { className: "line-mark", hidden: true });
    this.code = el("pre", { className: "hl code-text" });
    this.layer = el("div", { className: "code-layer", "aria-hidden": "true" }, this.mark, this.code);
    this.textarea = el("textarea", {
      className: "code-input", spellcheck: false, wrap: "off", autocapitalize: "off",
      autocomplete: "off", readOnly, value: text,
    });
    this.textarea.setAttribute("autocorrect", "off"); // a boolean property in some browsers, a word in others
    this.root = el("div", { className: "code-view", hidden: true },
      el("div", { className: "gutter", "aria-hidden": "true" }, this.gutterLines),
      el("div", { className: "code-area" }, this.layer, this.textarea));
    this.rename(path);

    this.lines = text.split("\n");
    this.htmlLines = this.lines.map(escapeHtml);
    this.paint();
    this.renderGutter();

    this.textarea.addEventListener("beforeinput", (event) => this.beforeInput(event));
    this.textarea.addEventListener("input", (event) => this.typed(event));
    this.textarea.addEventListener("keydown", (event) => this.handleKey(event));
    this.textarea.addEventListener("scroll", () => this.syncScroll());
    this.highlightSoon(0);
  }

  get text() {
    return this.textarea.value;
  }

  /** What takes the focus when the file is shown. */
  get focusable() {
    return this.textarea;
  }

  rename(path) {
    this.path = path;
    this.language = languageFor(path);
    this.textarea.setAttribute("aria-label", `Code of ${path}`);
  }

  beforeInput(event) {
    if (event.inputType === "historyUndo" || event.inputType === "historyRedo") {
      event.preventDefault(); // the browser's stack does not know our edits: ours answers
      this.step(event.inputType === "historyUndo" ? "undo" : "redo");
      return;
    }
    this.selection = [this.textarea.selectionStart, this.textarea.selectionEnd];
  }

  /** The visitor changed the text (typing, pasting, cutting, dropping). */
  typed(event) {
    const apart = !/^(insertText|insertLineBreak|deleteContent)/.test(event.inputType ?? "");
    this.history.record(this.lines.join("\n"), this.text, this.selection, this.textarea.selectionEnd, { apart });
    this.changed();
  }

  /** Repaints after any change of the text, and tells the editor. */
  changed() {
    const lines = this.text.split("\n");
    const old = this.lines;
    // Keep the colours of the lines the edit did not touch; the others go plain
    // until the next highlight lands.
    let start = 0;
    while (start < lines.length && start < old.length && lines[start] === old[start]) start++;
    let endNew = lines.length;
    let endOld = old.length;
    while (endNew > start && endOld > start && lines[endNew - 1] === old[endOld - 1]) {
      endNew--;
      endOld--;
    }
    this.htmlLines = this.htmlLines.slice(0, start).concat(
      lines.slice(start, endNew).map(escapeHtml), this.htmlLines.slice(endOld));
    this.lines = lines;
    this.version++;
    this.paint();
    if (lines.length !== old.length) this.renderGutter();
    this.highlightSoon(HIGHLIGHT_DELAY_MS);
    this.onInput(this);
  }

  /** Replaces the whole text from outside (a read-only mirror): no undo step. */
  setText(text) {
    if (text === this.text) return;
    this.textarea.value = text;
    this.changed();
  }

  highlightSoon(delay) {
    clearTimeout(this.timer);
    this.timer = setTimeout(async () => {
      const version = this.version;
      const text = this.text;
      const html = await highlight(text, this.language);
      if (version !== this.version) return; // the text changed meanwhile: a newer request follows
      const lines = text.split("\n");
      const htmlLines = html.split("\n");
      // Pygments gives one line of HTML per line of text; never trust it blindly.
      this.htmlLines = lines.map((line, i) => htmlLines[i] ?? escapeHtml(line));
      this.lines = lines;
      this.paint();
    }, delay);
  }

  paint() {
    // The trailing newline gives a final empty line its height, as in the textarea.
    this.code.innerHTML = this.htmlLines.join("\n") + "\n";
  }

  renderGutter() {
    const numbers = [];
    for (let i = 1; i <= this.lines.length; i++) numbers.push(`<div>${i}</div>`);
    this.gutterLines.innerHTML = numbers.join("");
    this.updateMarkInGutter();
  }

  syncScroll() {
    const { scrollTop, scrollLeft } = this.textarea;
    this.layer.style.transform = `translate(${-scrollLeft}px, ${-scrollTop}px)`;
    this.gutterLines.style.transform = `translateY(${-scrollTop}px)`;
  }

  handleKey(event) {
    const mod = event.ctrlKey || event.metaKey;
    const key = event.key.toLowerCase();
    if (mod && !event.altKey && (key === "z" || (key === "y" && !event.shiftKey))) {
      event.preventDefault();
      this.step(key === "y" || event.shiftKey ? "redo" : "undo");
      return;
    }
    if (event.key === "Escape") {
      this.tabLeaves = true;
      return;
    }
    if (["Shift", "Control", "Alt", "Meta"].includes(event.key)) return; // Esc, then Shift+Tab leaves too
    if (event.key === "Tab") {
      if (this.tabLeaves || this.readOnly || event.ctrlKey || event.altKey || event.metaKey) {
        this.tabLeaves = false;
        return;
      }
      event.preventDefault();
      if (event.shiftKey) this.dedent();
      else this.indent();
      return;
    }
    this.tabLeaves = false;
    const plain = !event.isComposing && !this.readOnly
      && !(event.ctrlKey || event.metaKey || event.altKey || event.shiftKey);
    if (event.key === "Enter" && plain) {
      event.preventDefault();
      this.newline();
    } else if (event.key === "Backspace" && plain) {
      this.backspace(event);
    }
  }

  step(direction) {
    if (this.readOnly) return;
    const result = this.history[direction](this.text);
    if (!result) return;
    const ta = this.textarea;
    // Only the span that differs is replaced, so the scroll position stays where it was.
    const { at, removed, inserted } = difference(this.text, result.text);
    ta.setRangeText(inserted, at, at + removed.length);
    ta.setSelectionRange(...result.selection);
    this.changed();
    this.revealOffset(result.selection[1]);
  }

  /** Replaces [start, end) with `text` as a step of its own (or, with `run`, of the typing). */
  replace(start, end, text, { run = false } = {}) {
    const ta = this.textarea;
    const before = this.text;
    const selection = [ta.selectionStart, ta.selectionEnd];
    ta.setRangeText(text, start, end, "end");
    this.history.record(before, this.text, selection, ta.selectionEnd, { apart: !run });
    this.changed();
  }

  /** Replaces the whole text with `text` as a step of its own (only the span that differs, so
   * the view stays where it was), the caret kept on its line, at the line's indent. */
  replaceAll(text) {
    const ta = this.textarea;
    const row = this.text.slice(0, ta.selectionStart).split("\n").length - 1;
    const { at, removed, inserted } = difference(this.text, text);
    this.replace(at, at + removed.length, inserted);
    const lines = text.split("\n");
    const line = Math.min(row, lines.length - 1);
    const offset = lines.slice(0, line).reduce((sum, l) => sum + l.length + 1, 0) + lines[line].match(/^\s*/)[0].length;
    ta.setSelectionRange(offset, offset);
  }

  /** [start, end) of the whole lines the selection touches. */
  selectedLines() {
    const { selectionStart, selectionEnd, value } = this.textarea;
    let last = selectionEnd;
    if (last > selectionStart && value[last - 1] === "\n") last--; // a selection ending at column 0
    const start = value.lastIndexOf("\n", selectionStart - 1) + 1;
    let end = value.indexOf("\n", last);
    if (end === -1) end = value.length;
    return [start, end];
  }

  indent() {
    const { selectionStart, selectionEnd, value } = this.textarea;
    if (!value.slice(selectionStart, selectionEnd).includes("\n")) {
      const column = selectionStart - (value.lastIndexOf("\n", selectionStart - 1) + 1);
      this.replace(selectionStart, selectionEnd, " ".repeat(INDENT.length - (column % INDENT.length)));
      return;
    }
    const [start, end] = this.selectedLines();
    const block = value.slice(start, end).split("\n").map((l) => (l ? INDENT + l : l)).join("\n");
    this.replace(start, end, block);
    this.textarea.setSelectionRange(start, start + block.length);
  }

  dedent() {
    const { selectionStart, selectionEnd, value } = this.textarea;
    const [start, end] = this.selectedLines();
    const lines = value.slice(start, end).split("\n");
    const removed = lines.map((l) => l.match(/^ {0,4}/)[0].length);
    if (!removed.some(Boolean)) return;
    const block = lines.map((l, i) => l.slice(removed[i])).join("\n");
    this.replace(start, end, block);
    if (selectionStart === selectionEnd) {
      const caret = Math.max(start, selectionStart - removed[0]);
      this.textarea.setSelectionRange(caret, caret);
    } else {
      this.textarea.setSelectionRange(start, start + block.length);
    }
  }

  newline() {
    const { selectionStart, selectionEnd, value } = this.textarea;
    const line = value.slice(value.lastIndexOf("\n", selectionStart - 1) + 1, selectionStart);
    let indent = line.match(/^[ \t]*/)[0];
    if (this.language === "python") {
      if (/:\s*(#.*)?$/.test(line)) indent += INDENT;
      // After the last statement of a block, the next line leaves it, as in Python editors.
      else if (/^\s*(return|pass|raise|break|continue)\b/.test(line)) {
        indent = indent.slice(0, Math.max(0, indent.length - INDENT.length));
      }
    }
    this.replace(selectionStart, selectionEnd, "\n" + indent, { run: true });
    this.revealOffset(this.textarea.selectionEnd);
  }

  /** Backspace in a line's leading spaces takes back a whole level of indent. */
  backspace(event) {
    const { selectionStart, selectionEnd, value } = this.textarea;
    if (selectionStart !== selectionEnd) return;
    const lineStart = value.lastIndexOf("\n", selectionStart - 1) + 1;
    const before = value.slice(lineStart, selectionStart);
    if (!before || !/^ +$/.test(before)) return;
    event.preventDefault();
    const width = (before.length - 1) % INDENT.length + 1;
    this.replace(selectionStart - width, selectionStart, "", { run: true });
  }

  markLine(line, message) {
    this.markedLine = line;
    this.mark.hidden = false;
    this.mark.style.setProperty("--line", line);
    this.mark.title = message;
    this.updateMarkInGutter();
  }

  clearMark() {
    this.markedLine = null;
    this.mark.hidden = true;
    this.updateMarkInGutter();
  }

  updateMarkInGutter() {
    this.gutterLines.querySelector(".marked")?.classList.remove("marked");
    if (this.markedLine) this.gutterLines.children[this.markedLine - 1]?.classList.add("marked");
  }

  get lineHeight() {
    return this.code.scrollHeight / (this.lines.length + 1);
  }

  /** Scrolls `line` into the middle of the view; with `caret`, also focuses it there. */
  revealLine(line, { caret = false } = {}) {
    const ta = this.textarea;
    if (caret) {
      const offset = this.lines.slice(0, line - 1).reduce((sum, l) => sum + l.length + 1, 0);
      ta.focus({ preventScroll: true });
      ta.setSelectionRange(offset, offset);
    }
    ta.scrollTop = Math.max(0, (line - 1) * this.lineHeight - ta.clientHeight / 2);
  }

  /** Scrolls only if the line of `offset` is out of sight (after undo, or a new line at the bottom). */
  revealOffset(offset) {
    const ta = this.textarea;
    const line = this.text.slice(0, offset).split("\n").length;
    const top = (line - 1) * this.lineHeight;
    if (top < ta.scrollTop || top + 2 * this.lineHeight > ta.scrollTop + ta.clientHeight) this.revealLine(line);
  }

  /** Scrolls to a position given in lines and characters (another person's view of the file). */
  scrollTo({ top = 0, left = 0 }) {
    const size = parseFloat(getComputedStyle(this.textarea).fontSize);
    this.textarea.scrollTop = top * this.lineHeight;
    this.textarea.scrollLeft = left * 0.6 * size; // near enough for a monospace font
  }
}

/** Why `path` cannot be a new file of `paths`, or null: the host's rules (api.path_problem), and
 * clear words for the common mistakes. */
export function fileNameProblem(path, paths) {
  if (!path) return "Give the file a name, like templates/page.html.";
  if (path.startsWith("/") || path.includes("\\") || path.split("/").some((p) => p === "" || p === "." || p === "..")) {
    return "Use a relative path with / between folders, like static/style.css (no leading /, no ..).";
  }
  if (/[\u0000-\u001f\u007f]/.test(path)) return "A file name cannot hold control characters.";
  if (paths.includes(path)) return `There is a file ${path} already.`;
  const clash = paths.find((p) => p.startsWith(`${path}/`) || path.startsWith(`${p}/`));
  if (clash) return `${clash} makes that both a file and a folder.`;
  return null;
}

/** What differs in `files` from `originals`: changed and added files, and deleted ones as null. */
export function editsBetween(files, originals) {
  const edits = Object.fromEntries(Object.entries(files).filter(([p, t]) => !sameContent(t, originals[p])));
  for (const path of Object.keys(originals)) if (!(path in files)) edits[path] = null;
  return edits;
}

export class Editor {
  /**
   * host: where the file views go; tabs: the tab bar; onChange(path, kind) after each edit
   * ("text") or when files were added, renamed or deleted ("files"). A `readOnly` editor
   * shows someone else's files; `testid` goes on the visible textarea. onShow(path) when
   * another file is shown.
   */
  constructor({ host, tabs, onChange = () => {}, onShow = () => {}, readOnly = false, testid = "editor" }) {
    this.host = host;
    this.tabs = tabs;
    this.onChange = onChange;
    this.onShow = onShow;
    this.readOnly = readOnly;
    this.testid = testid;
    this.views = new Map();
    this.originals = {};
    this.active = null;
    this.touched = false; // edited by the visitor since `touched` was last reset (at each run)
    this.tabList = new TabList(tabs, (tab) => this.show(tab.dataset.path));
  }

  /** Shows a snippet's files: `files` as edited, `originals` as in the talk. */
  open(files, originals = files) {
    this.host.replaceChildren();
    this.tabs.replaceChildren();
    this.views.clear();
    this.originals = originals;
    for (const [path, text] of Object.entries(files)) this.addView(path, text);
    this.sortTabs();
    this.show(this.paths[0]);
  }

  addView(path, value) {
    const view = isBinary(value)
      ? new BinaryView(path, value, { onReplace: (v, replacement) => this.replace(v.path, replacement) })
      : new FileView(path, value, {
        readOnly: this.readOnly,
        onInput: (v) => {
          this.updateTab(v.path);
          if (!this.readOnly) {
            this.touched = true;
            this.onChange(v.path, "text");
          }
        },
      });
    this.views.set(path, view);
    this.host.append(view.root);
    const tab = el("button", { type: "button", role: "tab", className: "file-tab", "data-testid": "file-tab" },
      el("span", { className: "file-name" }), el("span", { className: "modified", title: "Changed from the talk's version" }, "●"));
    TabList.link(tab, view.root);
    this.tabs.append(tab);
    this.labelTab(tab, path);
    this.updateTab(path);
    return view;
  }

  labelTab(tab, path) {
    tab.dataset.path = path;
    tab.querySelector(".file-name").textContent = path.split("/").pop(); // the full path is in the title
    tab.title = [path, tab.dataset.error, tab.dataset.view].filter(Boolean).join("\n");
  }

  /** app.py first, then by path, as the host lists them. */
  get paths() {
    return [...this.views.keys()].sort((a, b) => (b === "app.py") - (a === "app.py") || a.localeCompare(b));
  }

  sortTabs() {
    this.tabs.append(...this.paths.map((path) => this.tabFor(path)));
  }

  tabFor(path) {
    return [...this.tabs.children].find((tab) => tab.dataset.path === path) ?? null;
  }

  show(path) {
    const view = this.views.get(path);
    if (!view) return;
    for (const [p, v] of this.views) {
      const active = p === path;
      v.root.hidden = !active;
      // One test hook for the visible text editor only.
      if (!v.textarea) continue;
      if (active && this.testid) v.textarea.dataset.testid = this.testid;
      else delete v.textarea.dataset.testid;
    }
    this.tabList.mark(this.tabFor(path));
    this.active = view;
    this.onShow(path);
  }

  get hasFocus() {
    return this.host.contains(document.activeElement);
  }

  focus() {
    this.active?.focusable.focus();
  }

  showIndex(index) {
    const path = this.paths[index];
    if (path) {
      this.show(path);
      this.focus();
    }
  }

  get files() {
    return Object.fromEntries(this.paths.map((path) => [path, this.views.get(path).text]));
  }

  /** What differs from the talk's version (editsBetween). */
  get edits() {
    return editsBetween(this.files, this.originals);
  }

  updateTab(path) {
    this.tabFor(path)?.classList.toggle("is-modified", !sameContent(this.views.get(path).text, this.originals[path]));
  }

  /** Replaces the shown file's text (a formatter's answer) as one step undo takes back. */
  replaceText(text) {
    this.active?.replaceAll?.(text);
  }

  /** Adds a file (empty, or text or {base64} read from disk) and shows it; the caller has
   * checked the name (fileNameProblem). */
  add(path, value = "") {
    this.addView(path, value);
    this.sortTabs();
    this.show(path);
    this.focus();
    this.onChange(path, "files");
  }

  /** Renames a file; its text, undo history and scroll position go with it. */
  rename(from, to) {
    const view = this.views.get(from);
    if (!view || from === to) return;
    this.views.delete(from);
    this.views.set(to, view);
    view.rename(to);
    this.labelTab(this.tabFor(from), to);
    this.updateTab(to);
    this.sortTabs();
    view.highlightSoon(0); // another extension, maybe another language
    this.show(to);
    this.onChange(to, "files");
  }

  /** Gives a file other content from disk, text or binary, in a view of the right kind. */
  replace(path, value) {
    const view = this.views.get(path);
    if (!view || this.readOnly) return;
    view.root.remove();
    this.tabFor(path).remove();
    this.views.delete(path);
    this.add(path, value);
  }

  remove(path) {
    const view = this.views.get(path);
    if (!view) return;
    const index = this.paths.indexOf(path);
    view.root.remove();
    this.tabFor(path).remove();
    this.views.delete(path);
    this.show(this.paths[Math.min(index, this.paths.length - 1)]);
    this.onChange(path, "files");
  }

  /** A read-only mirror follows someone else's files: new texts, or another set of files. */
  mirror(files, path) {
    const same = Object.keys(files).length === this.views.size && Object.entries(files).every(
      ([p, value]) => this.views.has(p) && isBinary(value) === this.views.get(p) instanceof BinaryView);
    if (!same) this.open(files);
    else for (const [p, text] of Object.entries(files)) this.views.get(p).setText(text);
    if (path && path !== this.active?.path) this.show(path);
  }

  /** Resolves an error's file (maybe an absolute path in the sandbox) to one of ours. */
  pathFor(file) {
    if (!file) return null;
    const matches = [...this.views.keys()].filter((p) => file === p || file.endsWith("/" + p));
    return matches.sort((a, b) => b.length - a.length)[0] ?? null;
  }

  /**
   * Marks `line` of `file` as where an error happened, and its tab; with `reveal`, shows it
   * (otherwise the visitor stays on the file they are working on). Returns the path it matched.
   */
  markError(file, line, message, { reveal = true } = {}) {
    const path = this.pathFor(file);
    if (!path || !line) return null;
    this.clearMarks();
    this.views.get(path).markLine(line, message);
    this.markTab(path, "error", message);
    if (reveal) this.show(path);
    if (this.active.path === path) this.active.revealLine(line);
    return path;
  }

  /** Marks the view function that answered with a band, and its tab; never switches files. */
  markView(file, line, name) {
    this.clearViewMark();
    const path = this.pathFor(file);
    const view = this.views.get(path);
    if (!view?.layer) return; // not a text file: no line to mark
    const mark = el("div", { className: "line-mark view-mark", title: `the view that answered: ${name}` });
    mark.style.setProperty("--line", line);
    view.layer.append(mark);
    this.markTab(path, "view", `the view that answered, ${name}, is on line ${line}`);
    if (this.active === view) view.revealLine(line);
  }

  clearViewMark() {
    this.host.querySelectorAll(".view-mark").forEach((mark) => mark.remove());
    this.unmarkTabs("view");
  }

  /** A mark on a file's tab (kind "error" or "view"), so a file not shown says what is in it. */
  markTab(path, kind, note) {
    this.unmarkTabs(kind);
    const tab = this.tabFor(path);
    if (!tab) return;
    tab.dataset[kind] = note;
    this.labelTab(tab, path);
  }

  unmarkTabs(kind) {
    for (const tab of this.tabs.querySelectorAll(`[data-${kind}]`)) {
      delete tab.dataset[kind];
      this.labelTab(tab, tab.dataset.path);
    }
  }

  /** Shows `line` of `path` with the caret on it. */
  reveal(path, line) {
    this.show(path);
    this.active.revealLine(line, { caret: true });
  }

  clearMarks() {
    for (const view of this.views.values()) view.clearMark();
    this.unmarkTabs("error");
  }
}
