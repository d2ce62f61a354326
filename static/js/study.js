// Self-study after the talk: previous/next in the talk's order, which snippets
// were visited and run (kept in this browser), and a short tour on a first visit.
import { load, save } from "./storage.js";

const TOUR = [
  ["#snippet-list", "The talk's examples, in its order. Pick one, or step through them with ◀ ▶."],
  ["#editor-host", "Change the code here. Your edits stay in this browser."],
  ["#run-button", "Run starts your app in a sandbox of its own."],
  ["#request-panel", "Send it requests: the suggested ones show what the talk is about."],
  ["#response-panel", "The answer: status, headers, body and cookies, the Flask session decoded."],
  ["#watch-toggle", "Watch mode: after each pause in typing the app runs again and you see what changed."],
];

export class Study {
  /** neighbour(slug, step) gives the slug before/after; open(slug) opens it. */
  constructor({ list, prev, next, progress, neighbour, open }) {
    this.list = list;
    this.prev = prev;
    this.next = next;
    this.progress = progress;
    this.neighbour = neighbour;
    this.slug = null;
    this.seen = new Set(load("visited", []));
    this.run = new Set(load("ran", []));
    prev.addEventListener("click", () => this.go(-1, open));
    next.addEventListener("click", () => this.go(1, open));
  }

  go(step, open) {
    const slug = this.slug && this.neighbour(this.slug, step);
    if (slug) open(slug);
  }

  /** A snippet of the talk was opened. */
  visited(slug) {
    this.slug = slug;
    this.seen.add(slug);
    save("visited", [...this.seen]);
    this.mark();
  }

  /** The open snippet was run. */
  ran() {
    if (!this.slug) return;
    this.run.add(this.slug);
    save("ran", [...this.run]);
    this.mark();
  }

  /** Marks the picker's items and the progress; call again after the picker is redrawn. */
  mark() {
    const items = [...this.list.querySelectorAll(".snippet-item[data-slug]")];
    for (const item of items) {
      item.classList.toggle("is-visited", this.seen.has(item.dataset.slug));
      item.classList.toggle("is-ran", this.run.has(item.dataset.slug));
    }
    const seen = items.filter((i) => this.seen.has(i.dataset.slug)).length;
    const ran = items.filter((i) => this.run.has(i.dataset.slug)).length;
    this.progress.textContent = items.length ? `${seen}/${items.length} seen` : "";
    this.progress.title = `${seen} of ${items.length} snippets visited, ${ran} run`;
    this.prev.disabled = !this.slug || !this.neighbour(this.slug, -1);
    this.next.disabled = !this.slug || !this.neighbour(this.slug, 1);
  }

  /** The tour, once per browser. */
  tourOnce() {
    if (load("toured", false)) return;
    save("toured", true);
    this.tour(0);
  }

  /** Ends the tour where it is (following the presenter hides what it points at). */
  endTour() {
    this.tour(TOUR.length);
  }

  /** One step: a bar under the top bar (never over the page) and the part it is about outlined. */
  tour(step) {
    document.querySelector(".tour-bar")?.remove();
    document.querySelector(".tour-target")?.classList.remove("tour-target");
    const [selector, text] = TOUR[step] ?? [];
    const target = selector && document.querySelector(selector);
    if (!target) return;
    target.classList.add("tour-target");
    const bar = document.createElement("div");
    bar.className = "tour-bar";
    bar.dataset.testid = "tour";
    bar.setAttribute("role", "status");
    bar.innerHTML = `<span class="count"></span> <span class="text"></span><span class="spacer"></span>
      <button type="button" class="small skip">Skip the tour</button>
      <button type="button" class="small primary next"></button>`;
    bar.querySelector(".count").textContent = `${step + 1}/${TOUR.length}`;
    bar.querySelector(".text").textContent = text;
    bar.querySelector(".next").textContent = step + 1 < TOUR.length ? "Next" : "Done";
    bar.querySelector(".skip").addEventListener("click", () => this.endTour());
    bar.querySelector(".next").addEventListener("click", () => this.tour(step + 1));
    document.querySelector(".topbar").after(bar);
  }
}
