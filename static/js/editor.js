// The code editor: one tab per file of the snippet. Each file is a transparent
// <textarea> (the source of truth, so typing, selection, IME and native undo are
// the browser's own) laid exactly over a <pre> painted with Pygments HTML.
//
// Typing never waits for the host: the edited lines are repainted plain at once,
// the whole file is highlighted after a short pause, and an answer is painted only
// if the text has not changed since it was asked for. The textarea's value is never
// set while the visitor types; indentation goes through execCommand("insertText")
// so undo/redo keeps every step.
import { escapeHtml, highlight, languageFor } from "./api.js";

const INDENT = "    ";
const HIGHLIGHT_DELAY_MS = 150; // a pause in typing; the edited line shows plain meanwhile

function element(tag, className, attributes = {}) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

class FileView {
  constructor(path, text, { onInput }) {
    this.path = path;
    this.language = languageFor(path);
    this.onInput = onInput;
    this.version = 0;
    this.timer = null;
    this.tabLeaves = false; // after Esc, Tab moves the focus on instead of indenting

    this.root = element("div", "code-view", { role: "tabpanel" });
    this.gutter = element("div", "gutter", { "aria-hidden": "true" });
    this.gutterLines = element("div", "gutter-lines");
    this.gutter.append(this.gutterLines);
    const area = element("div", "code-area");
    this.layer = element("div", "code-layer", { "aria-hidden": "true" });
    this.mark = element("div", "line-mark");
    this.mark.hidden = true;
    this.code = element("pre", "hl code-text");
    this.layer.append(this.mark, this.code);
    this.textarea = element("textarea", "code-input", {
      spellcheck: "false", wrap: "off", autocapitalize: "off", autocomplete: "off",
      autocorrect: "off", "aria-label": `Code of ${path}`,
    });
    this.textarea.value = text;
    area.append(this.layer, this.textarea);
    this.root.append(this.gutter, area);

    this.lines = text.split("\n");
    this.htmlLines = this.lines.map(escapeHtml);
    this.paint();
    this.renderGutter();

    this.textarea.addEventListener("input", () => this.handleInput());
    this.textarea.addEventListener("keydown", (event) => this.handleKey(event));
    this.textarea.addEventListener("scroll", () => this.syncScroll());
    this.highlightSoon(0);
  }

  get text() {
    return this.textarea.value;
  }

  handleInput() {
    const lines = this.textarea.value.split("\n");
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

  highlightSoon(delay) {
    clearTimeout(this.timer);
    this.timer = setTimeout(async () => {
      const version = this.version;
      const text = this.textarea.value;
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
    if (event.key === "Escape") {
      this.tabLeaves = true;
      return;
    }
    if (event.key === "Tab") {
      if (this.tabLeaves || event.ctrlKey || event.altKey || event.metaKey) {
        this.tabLeaves = false;
        return;
      }
      event.preventDefault();
      if (event.shiftKey) this.dedent();
      else this.indent();
      return;
    }
    this.tabLeaves = false;
    const plain = !event.isComposing
      && !(event.ctrlKey || event.metaKey || event.altKey || event.shiftKey);
    if (event.key === "Enter" && plain) {
      event.preventDefault();
      this.newline();
    } else if (event.key === "Backspace" && plain) {
      this.backspace(event);
    }
  }

  /** Replaces [start, end) with `text` as one undoable edit. */
  replace(start, end, text) {
    const ta = this.textarea;
    ta.setSelectionRange(start, end);
    const done = text ? document.execCommand("insertText", false, text)
      : document.execCommand("delete");
    if (!done) {
      // No execCommand (it is deprecated, though every browser has it): edit without undo.
      ta.setRangeText(text, start, end, "end");
      ta.dispatchEvent(new Event("input"));
    }
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
    this.replace(selectionStart, selectionEnd, "\n" + indent);
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
    this.replace(selectionStart - width, selectionStart, "");
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

  /** Scrolls `line` into the middle of the view; with `caret`, also focuses it there. */
  revealLine(line, { caret = false } = {}) {
    const ta = this.textarea;
    const lines = ta.value.split("\n");
    if (caret) {
      const offset = lines.slice(0, line - 1).reduce((sum, l) => sum + l.length + 1, 0);
      ta.focus({ preventScroll: true });
      ta.setSelectionRange(offset, offset);
    }
    const lineHeight = this.code.scrollHeight / (lines.length + 1);
    ta.scrollTop = Math.max(0, (line - 1) * lineHeight - ta.clientHeight / 2);
  }
}

export class Editor {
  /** host: where the file views go; tabs: the tab bar; onChange(path, text) after each edit. */
  constructor({ host, tabs, onChange }) {
    this.host = host;
    this.tabs = tabs;
    this.onChange = onChange;
    this.views = new Map();
    this.originals = {};
    this.active = null;
  }

  /** Shows a snippet's files: `files` as edited, `originals` as in the talk. */
  open(files, originals) {
    this.host.replaceChildren();
    this.tabs.replaceChildren();
    this.views.clear();
    this.originals = originals;
    const paths = Object.keys(files).sort((a, b) =>
      (b === "app.py") - (a === "app.py") || a.localeCompare(b));
    for (const path of paths) {
      const view = new FileView(path, files[path], {
        onInput: (v) => {
          this.updateTab(v.path);
          this.onChange(v.path, v.text);
        },
      });
      view.root.hidden = true;
      this.views.set(path, view);
      this.host.append(view.root);
      const tab = element("button", "file-tab", {
        type: "button", role: "tab", "data-testid": "file-tab", "data-path": path, title: path,
      });
      tab.append(element("span", "file-name"), element("span", "modified"));
      tab.firstChild.textContent = path.split("/").pop(); // the full path is in the title
      tab.lastChild.textContent = "●";
      tab.lastChild.title = "Changed from the talk's version";
      tab.addEventListener("click", () => this.show(path));
      this.tabs.append(tab);
      this.updateTab(path);
    }
    this.show(paths[0]);
  }

  show(path) {
    const view = this.views.get(path);
    if (!view) return;
    for (const [p, v] of this.views) {
      const active = p === path;
      v.root.hidden = !active;
      // One test hook for the visible editor only.
      if (active) v.textarea.dataset.testid = "editor";
      else delete v.textarea.dataset.testid;
    }
    for (const tab of this.tabs.children) {
      tab.setAttribute("aria-selected", String(tab.dataset.path === path));
    }
    this.active = view;
  }

  focus() {
    this.active?.textarea.focus();
  }

  showIndex(index) {
    const tab = this.tabs.children[index];
    if (tab) {
      this.show(tab.dataset.path);
      this.active.textarea.focus();
    }
  }

  get files() {
    return Object.fromEntries([...this.views].map(([path, view]) => [path, view.text]));
  }

  /** The files that differ from the talk's version. */
  get edits() {
    return Object.fromEntries(Object.entries(this.files).filter(([p, t]) => t !== this.originals[p]));
  }

  updateTab(path) {
    const tab = [...this.tabs.children].find((t) => t.dataset.path === path);
    tab?.classList.toggle("is-modified", this.views.get(path).text !== this.originals[path]);
  }

  /** Resolves an error's file (maybe an absolute path in the sandbox) to one of ours. */
  pathFor(file) {
    if (!file) return null;
    const matches = [...this.views.keys()].filter((p) => file === p || file.endsWith("/" + p));
    return matches.sort((a, b) => b.length - a.length)[0] ?? null;
  }

  /** Marks `line` of `file` as where an error happened and shows it; returns the path it matched. */
  markError(file, line, message) {
    const path = this.pathFor(file);
    if (!path || !line) return null;
    this.clearMarks();
    this.views.get(path).markLine(line, message);
    this.show(path);
    this.active.revealLine(line);
    return path;
  }

  /** Shows `line` of `path` with the caret on it. */
  reveal(path, line) {
    this.show(path);
    this.active.revealLine(line, { caret: true });
  }

  clearMarks() {
    for (const view of this.views.values()) view.clearMark();
  }
}
