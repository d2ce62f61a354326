// Undo and redo for one file of the editor, by typed runs as native editors have them: a run of
// typing (or of deleting) is one step, until a pause, a line break, a jump of the caret or
// another kind of edit starts the next. The browser's own undo stack cannot be kept (the
// editor's indenting and the highlighter's repaints would split or lose it), so the editor
// records every change itself, its own indent and dedent edits included.
const PAUSE_MS = 1000; // typing after a pause this long is a new step
const MAX_STEPS = 500;

/** What turned `before` into `after`: {at, removed, inserted}, from the common ends. `limit` is
 * where the change can start at the latest: typing "b" in "a|bb" changed offset 1, not 3. */
export function difference(before, after, limit = Infinity) {
  let start = 0;
  const shortest = Math.min(before.length, after.length);
  while (start < shortest && start < limit && before[start] === after[start]) start++;
  let end = 0;
  while (end < shortest - start && before[before.length - 1 - end] === after[after.length - 1 - end]) end++;
  return { at: start, removed: before.slice(start, before.length - end), inserted: after.slice(start, after.length - end) };
}

/** How a change joins the step before it: "type" and "delete" runs grow; a line break (with its
 * indent) or a character typed over a selection starts a typing run; the rest stand alone. */
function kindOf({ removed, inserted }) {
  if (!removed && inserted && !inserted.includes("\n")) return "type";
  if (inserted.length === 1 || (inserted.startsWith("\n") && !inserted.slice(1).includes("\n"))) return "start";
  if (removed && !inserted && removed.length <= 4 && !removed.includes("\n")) return "delete";
  return "other";
}

export class UndoHistory {
  constructor() {
    this.done = [];
    this.undone = [];
  }

  /**
   * A change from `before` to `after`; `selection` is [start, end] before it, `caret` after.
   * `apart` starts a new step whatever the change is.
   */
  record(before, after, selection, caret, { apart = false } = {}) {
    const limit = caret - Math.max(0, after.length - before.length);
    const change = { ...difference(before, after, limit), selection, caret };
    if (!change.removed && !change.inserted) return;
    this.undone = [];
    const kind = kindOf(change);
    const last = this.done.at(-1);
    const now = Date.now();
    const joins = last && !apart && now - last.time < PAUSE_MS && (
      (kind === "type" && last.kind === "type" && change.at === last.end)
      || (kind === "delete" && last.kind === "delete"
        && (change.at + change.removed.length === last.end || change.at === last.end)));
    if (joins) {
      last.changes.push(change);
    } else {
      this.done.push({ kind: kind === "start" ? "type" : kind, changes: [change] });
      if (this.done.length > MAX_STEPS) this.done.shift();
    }
    const step = this.done.at(-1);
    step.time = now;
    step.end = change.at + change.inserted.length;
  }

  /** The text before the last step and where the selection was, or null with nothing to undo. */
  undo(text) {
    const step = this.done.pop();
    if (!step) return null;
    this.undone.push(step);
    for (const { at, removed, inserted } of [...step.changes].reverse()) {
      text = text.slice(0, at) + removed + text.slice(at + inserted.length);
    }
    return { text, selection: step.changes[0].selection };
  }

  /** The text after the step last undone and the caret there, or null with nothing to redo. */
  redo(text) {
    const step = this.undone.pop();
    if (!step) return null;
    this.done.push({ ...step, time: 0 }); // what is typed next is a step of its own
    for (const { at, removed, inserted } of step.changes) {
      text = text.slice(0, at) + inserted + text.slice(at + removed.length);
    }
    const { caret } = step.changes.at(-1);
    return { text, selection: [caret, caret] };
  }
}
