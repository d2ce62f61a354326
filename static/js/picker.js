// The snippet picker: the talk's sections in order, with a search box. The list is one tab
// stop (the open snippet, or the first shown): arrow keys, Home and End move in it, so the
// keyboard reaches the editor without crossing every snippet. Esc in the search box clears it.
import { el } from "./dom.js";
import { hasEdits } from "./storage.js";

export class Picker {
  /** onPick(slug) opens a snippet; onFilter() after the search changed what is shown. */
  constructor({ list, search, onPick, onFilter = () => {} }) {
    this.list = list;
    this.search = search;
    this.onPick = onPick;
    this.onFilter = onFilter;
    this.snippets = [];
    search.addEventListener("input", () => this.filter(search.value));
    search.addEventListener("keydown", (event) => {
      const first = this.visibleItems()[0];
      if (event.key === "Enter" && first) this.onPick(first.dataset.slug);
      else if (event.key === "ArrowDown" && first) {
        event.preventDefault();
        first.focus();
      } else if (event.key === "Escape" && search.value) {
        event.preventDefault(); // the filter goes, the focus stays for the next search
        search.value = "";
        this.filter("");
      }
    });
    list.addEventListener("keydown", (event) => {
      const items = this.visibleItems();
      const index = items.indexOf(document.activeElement);
      const next = { ArrowDown: index + 1, ArrowUp: index - 1, Home: 0, End: items.length - 1 }[event.key];
      if (index < 0 || next === undefined || event.altKey) return;
      event.preventDefault();
      (items[next] ?? search).focus();
    });
    list.addEventListener("focusin", (event) => {
      if (event.target.matches(".snippet-item")) this.rove(event.target);
    });
  }

  show(snippets) {
    this.snippets = snippets;
    this.list.replaceChildren();
    let group = null;
    for (const snippet of snippets) {
      if (!group || group.dataset.section !== snippet.section) {
        group = el("section", {}, el("h2", {}, snippet.section), el("ul"));
        group.dataset.section = snippet.section;
        this.list.append(group);
      }
      const item = el("button", { type: "button", className: "snippet-item", tabIndex: -1, "data-testid": "snippet-item" },
        el("span", { className: "title" }, snippet.title),
        el("span", { className: "modified", title: "You changed this snippet" }, "●"));
      item.dataset.slug = snippet.slug;
      item.dataset.search = `${snippet.title} ${snippet.section} ${snippet.slug}`.toLowerCase();
      item.classList.toggle("is-modified", hasEdits(snippet.slug));
      item.addEventListener("click", () => this.onPick(snippet.slug));
      group.lastChild.append(el("li", {}, item));
    }
    this.filter(this.search.value);
  }

  filter(query) {
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    for (const item of this.items()) {
      item.parentElement.hidden = !words.every((w) => item.dataset.search.includes(w));
    }
    for (const group of this.list.children) {
      group.hidden = !group.querySelector("li:not([hidden])");
    }
    this.rove();
    this.onFilter();
  }

  items() {
    return [...this.list.querySelectorAll(".snippet-item")];
  }

  visibleItems() {
    return this.items().filter((item) => !item.parentElement.hidden);
  }

  /** The list's one tab stop: `item`, else the open snippet if shown, else the first shown. */
  rove(item = null) {
    const shown = this.visibleItems();
    const stop = item ?? shown.find((i) => i.getAttribute("aria-current") === "true") ?? shown[0];
    for (const each of this.items()) each.tabIndex = each === stop ? 0 : -1;
  }

  select(slug) {
    for (const item of this.items()) {
      if (item.dataset.slug === slug) {
        item.setAttribute("aria-current", "true");
        item.scrollIntoView({ block: "nearest" });
      } else {
        item.removeAttribute("aria-current");
      }
    }
    this.rove();
  }

  markModified(slug, modified) {
    this.items().find((i) => i.dataset.slug === slug)?.classList.toggle("is-modified", modified);
  }

  /** The slug `step` places away from `slug` in the talk's order among the snippets the search
   * shows, or null. */
  neighbour(slug, step) {
    const shown = new Set(this.visibleItems().map((item) => item.dataset.slug));
    for (let i = this.snippets.findIndex((s) => s.slug === slug) + step; i >= 0 && i < this.snippets.length; i += step) {
      if (shown.has(this.snippets[i].slug)) return this.snippets[i].slug;
    }
    return null;
  }
}
