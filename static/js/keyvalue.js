// Editable name/value rows with a box to leave one out, as Postman has them for the query,
// the headers and form fields: there is always one empty row to type a new one in, and × takes
// one away.
import { el } from "./dom.js";

export class KeyValueRows {
  /** onChange() after every edit made here (typing, a box ticked, a row removed). */
  constructor(container, { namePlaceholder, valuePlaceholder, onChange }) {
    this.container = container;
    this.placeholders = [namePlaceholder, valuePlaceholder];
    container.addEventListener("input", () => {
      this.keepOneEmptyRow();
      onChange();
    });
    container.addEventListener("click", (event) => {
      if (!event.target.closest(".remove")) return;
      const row = event.target.closest(".kv-row");
      // The focus goes to the next row's name, not to the page's start.
      const next = row.nextElementSibling ?? row.previousElementSibling;
      row.remove();
      this.keepOneEmptyRow();
      next?.querySelector(".name")?.focus();
      onChange();
    });
    this.set([]);
  }

  row(name = "", value = "", enabled = true) {
    const [nameHint, valueHint] = this.placeholders;
    return el("div", { className: "kv-row" },
      el("input", { type: "checkbox", className: "enabled", checked: enabled, "aria-label": "Send this one" }),
      el("input", { className: "name", spellcheck: false, value: name, placeholder: nameHint, "aria-label": nameHint }),
      el("input", { className: "value", spellcheck: false, value, placeholder: valueHint, "aria-label": valueHint }),
      el("button", { type: "button", className: "remove icon", "aria-label": "Remove", title: "Remove" }, "×"));
  }

  rows() {
    return [...this.container.querySelectorAll(".kv-row")];
  }

  keepOneEmptyRow() {
    const isEmpty = (r) => !r.querySelector(".name").value && !r.querySelector(".value").value;
    const empty = this.rows().filter(isEmpty);
    for (const row of empty.slice(0, -1)) if (!row.contains(document.activeElement)) row.remove();
    if (!this.rows().some(isEmpty)) this.container.append(this.row());
  }

  /** [[name, value, enabled]...] of the rows with a name. */
  all() {
    return this.rows()
      .filter((r) => r.querySelector(".name").value.trim())
      .map((r) => [r.querySelector(".name").value.trim(), r.querySelector(".value").value, r.querySelector(".enabled").checked]);
  }

  /** [[name, value]...] of the ticked rows with a name. */
  get() {
    return this.all().filter(([, , enabled]) => enabled).map(([name, value]) => [name, value]);
  }

  /** Rows [name, value] or [name, value, enabled]. */
  set(pairs) {
    this.container.replaceChildren(...pairs.map(([n, v, enabled = true]) => this.row(n, v, enabled)));
    this.keepOneEmptyRow();
  }

  /** Sets (or with value null removes) a row by name, case-insensitively. */
  put(name, value) {
    const row = this.rows().find((r) => r.querySelector(".name").value.trim().toLowerCase() === name.toLowerCase());
    if (value === null) row?.remove();
    else if (row) {
      row.querySelector(".value").value = value;
      row.querySelector(".enabled").checked = true;
    } else this.container.prepend(this.row(name, value));
    this.keepOneEmptyRow();
  }

  valueOf(name) {
    return this.get().find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1] ?? null;
  }
}
