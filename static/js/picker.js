// The snippet picker: the talk's sections in order, with a search box.
import { hasEdits } from "./storage.js";

export class Picker {
  constructor({ list, search, onPick }) {
    this.list = list;
    this.search = search;
    this.onPick = onPick;
    this.snippets = [];
    search.addEventListener("input", () => this.filter(search.value));
    search.addEventListener("keydown", (event) => {
      const first = this.visibleItems()[0];
      if (event.key === "Enter" && first) this.onPick(first.dataset.slug);
      if (event.key === "ArrowDown" && first) {
        event.preventDefault();
        first.focus();
      }
    });
    list.addEventListener("keydown", (event) => {
      const items = this.visibleItems();
      const index = items.indexOf(document.activeElement);
      if (index < 0 || !["ArrowDown", "ArrowUp"].includes(event.key)) return;
      event.preventDefault();
      (items[index + (event.key === "ArrowDown" ? 1 : -1)] ?? search).focus();
    });
  }

  show(snippets) {
    this.snippets = snippets;
    this.list.replaceChildren();
    let group = null;
    for (const snippet of snippets) {
      if (!group || group.dataset.section !== snippet.section) {
        group = document.createElement("section");
        group.dataset.section = snippet.section;
        const heading = document.createElement("h3");
        heading.textContent = snippet.section;
        group.append(heading, document.createElement("ul"));
        this.list.append(group);
      }
      const item = document.createElement("button");
      item.type = "button";
      item.className = "snippet-item";
      item.dataset.testid = "snippet-item";
      item.dataset.slug = snippet.slug;
      item.dataset.search = `${snippet.title} ${snippet.section} ${snippet.slug}`.toLowerCase();
      item.innerHTML = '<span class="title"></span><span class="modified" title="You changed this snippet">●</span>';
      item.firstChild.textContent = snippet.title;
      item.classList.toggle("is-modified", hasEdits(snippet.slug));
      item.addEventListener("click", () => this.onPick(snippet.slug));
      const li = document.createElement("li");
      li.append(item);
      group.lastChild.append(li);
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
  }

  items() {
    return [...this.list.querySelectorAll(".snippet-item")];
  }

  visibleItems() {
    return this.items().filter((item) => !item.parentElement.hidden);
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
  }

  markModified(slug, modified) {
    this.items().find((i) => i.dataset.slug === slug)?.classList.toggle("is-modified", modified);
  }

  /** The slug `step` places away from `slug` in the talk's order, or null. */
  neighbour(slug, step) {
    const index = this.snippets.findIndex((s) => s.slug === slug);
    return this.snippets[index + step]?.slug ?? null;
  }
}
