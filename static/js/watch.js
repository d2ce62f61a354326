// Watch mode: after a pause in typing the app runs again by itself and the last
// request is sent again; the response view shows what changed against the
// previous answer (status, headers, body as a line diff). The same diff shows a
// follower what the presenter's last change did.
import { el } from "./dom.js";
import { load, save } from "./storage.js";

const PAUSE_MS = 700;
const MAX_DIFF_LINES = 1500; // beyond this a line diff costs more than it shows
// Headers that differ on every answer and say nothing about the change.
const NOISE = new Set(["date"]);

/** The edit script between two lists of lines: [["same"|"del"|"add", line]...] (LCS). */
export function diffLines(before, after) {
  const n = before.length;
  const m = after.length;
  const lengths = new Uint32Array((n + 1) * (m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lengths[i * (m + 1) + j] = before[i] === after[j] ? lengths[(i + 1) * (m + 1) + j + 1] + 1
        : Math.max(lengths[(i + 1) * (m + 1) + j], lengths[i * (m + 1) + j + 1]);
    }
  }
  const ops = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (before[i] === after[j]) {
      ops.push(["same", before[i++]]);
      j++;
    } else if (lengths[(i + 1) * (m + 1) + j] >= lengths[i * (m + 1) + j + 1]) {
      ops.push(["del", before[i++]]);
    } else {
      ops.push(["add", after[j++]]);
    }
  }
  while (i < n) ops.push(["del", before[i++]]);
  while (j < m) ops.push(["add", after[j++]]);
  return ops;
}

function bodyOf(response) {
  return response.body_base64 ? `(binary body, ${response.size} bytes)` : response.body;
}

/** What changed between two answers: {status, headers, body, changed}. */
export function compare(before, after) {
  const status = before.status !== after.status ? [before.status, after.status] : null;
  const table = (response) => new Map(response.headers
    .filter(([name]) => !NOISE.has(name.toLowerCase()))
    .map(([name, value]) => [name.toLowerCase(), [name, value]]));
  const old = table(before);
  const now = table(after);
  const headers = [];
  for (const key of new Set([...old.keys(), ...now.keys()])) {
    const [a, b] = [old.get(key), now.get(key)];
    if (a?.[1] !== b?.[1]) headers.push({ name: (b ?? a)[0], before: a?.[1] ?? null, after: b?.[1] ?? null });
  }
  const [x, y] = [bodyOf(before), bodyOf(after)];
  let body = null;
  if (x !== y) {
    const [xs, ys] = [x.split("\n"), y.split("\n")];
    body = xs.length > MAX_DIFF_LINES || ys.length > MAX_DIFF_LINES
      ? [["del", `(${xs.length} lines)`], ["add", `(${ys.length} lines: too long to compare)`]]
      : diffLines(xs, ys);
  }
  return { status, headers, body, changed: Boolean(status || headers.length || body) };
}

function line(className, text) {
  return el("div", { className }, text);
}

/** Fills `container` with the changes from `before` to `after`. */
function renderDiff(container, before, after) {
  const { status, headers, body, changed } = compare(before, after);
  container.replaceChildren(el("h4", {}, changed ? "Changed since the previous run" : "Nothing changed since the previous run"));
  if (status) container.append(line("diff-status", `status ${status[0]} → ${status[1]}`));
  for (const { name, before: a, after: b } of headers) {
    if (a !== null) container.append(line("del", `${name}: ${a}`));
    if (b !== null) container.append(line("add", `${name}: ${b}`));
  }
  if (body) {
    container.append(el("pre", { className: "diff-body" },
      ...body.map(([op, text]) => line(op, `${{ same: " ", del: "−", add: "+" }[op]} ${text}`))));
  }
  container.dataset.changed = String(changed);
}

/** The diff under a response's status line: the last answer against the one before it. */
export class DiffView {
  constructor(anchor, testid = "response-diff") {
    this.box = el("div", { className: "response-diff", hidden: true, "data-testid": testid });
    anchor.after(this.box);
    this.previous = null;
  }

  /** A new answer to `request`: compared with the previous answer to the same request. */
  show(request, response, { enabled = true } = {}) {
    const key = `${request.method} ${request.path}`;
    const before = this.previous?.key === key ? this.previous.response : null;
    this.previous = { key, response };
    this.box.hidden = !enabled || !before;
    if (!this.box.hidden) renderDiff(this.box, before, response);
  }

  clear() {
    this.previous = null;
    this.box.hidden = true;
  }
}

export class Watch {
  /** toggle: a checkbox; onRerun() runs again and resends; onToggle(on) after each change.
   * typed() after each edit of the code. */
  constructor({ toggle, onRerun, onToggle = () => {} }) {
    this.toggle = toggle;
    this.onRerun = onRerun;
    this.timer = null;
    toggle.checked = load("watch", false);
    toggle.addEventListener("change", () => {
      save("watch", toggle.checked);
      clearTimeout(this.timer);
      onToggle(toggle.checked);
    });
  }

  get on() {
    return this.toggle.checked;
  }

  typed() {
    if (!this.on) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.onRerun(), PAUSE_MS);
  }
}
