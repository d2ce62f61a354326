// The page's frame: theme, text size, resizable and collapsible panes. Sizes
// are CSS custom properties on the workspace, saved in localStorage.
//
// The text size is the one setting that scales the whole page for a projector: everything is
// sized in em, the follower's view included, and the response preview zooms with it (it hears
// SCALE_EVENT). Its range reaches a 3840x2160 screen read from the back of a hall.
import { load, save } from "./storage.js";

const FONT_SIZES = [12, 13, 14, 16, 18, 20, 24, 28, 32, 40, 48, 56, 64];
export const SCALE_EVENT = "playground:scale";

/** The page's text size against a browser's default 16 px: 1.75 for 28 px. */
export function pageScale() {
  return parseFloat(getComputedStyle(document.documentElement).fontSize) / 16;
}

/** One step larger (1) or smaller (-1), remembered; the stylesheet's default is where it starts. */
function stepTextSize(step) {
  const root = document.documentElement;
  const current = load("fontSize", null) ?? parseFloat(getComputedStyle(root).getPropertyValue("--font-size"));
  const index = FONT_SIZES.findIndex((size) => size >= current);
  const next = FONT_SIZES[Math.max(0, Math.min(FONT_SIZES.length - 1,
    (index < 0 ? FONT_SIZES.length - 1 : index) + step))];
  root.style.setProperty("--font-size", `${next}px`);
  save("fontSize", next);
  describeTextSize();
  document.dispatchEvent(new Event(SCALE_EVENT));
}

/** Every A−/A+ button says the size it starts from and whether it can go further. */
function describeTextSize() {
  const size = parseFloat(getComputedStyle(document.documentElement).fontSize);
  for (const [selector, step, words] of [["[data-text-size=down]", -1, "Smaller text"], ["[data-text-size=up]", 1, "Larger text, for a projector"]]) {
    for (const button of document.querySelectorAll(selector)) {
      const end = step < 0 ? size <= FONT_SIZES[0] : size >= FONT_SIZES.at(-1);
      button.title = `${words} (now ${size} px${end ? ", the end of the range" : ""})`;
    }
  }
}

// Each resizer sets one property; `sign` says which way dragging grows the pane.
const RESIZERS = {
  picker: { property: "--picker-w", axis: "x", sign: 1, min: 140, max: 480 },
  code: { property: "--code-w", axis: "x", sign: 1, min: 300, max: 2400 },
  log: { property: "--log-h", axis: "y", sign: -1, min: 60, max: 900 },
};

export function setupLayout() {
  const root = document.documentElement;
  const workspace = document.getElementById("workspace");

  document.getElementById("theme-toggle").addEventListener("click", () => {
    root.dataset.theme = root.dataset.theme === "dark" ? "light" : "dark";
    save("theme", root.dataset.theme);
  });

  // Until the visitor picks a size, the stylesheet's default (larger on big screens) holds.
  for (const button of document.querySelectorAll("[data-text-size]")) {
    button.addEventListener("click", () => stepTextSize(button.dataset.textSize === "up" ? 1 : -1));
  }
  describeTextSize();

  const sizes = load("panes", {});
  for (const [name, { property }] of Object.entries(RESIZERS)) {
    if (sizes[name]) workspace.style.setProperty(property, `${sizes[name]}px`);
  }
  for (const handle of document.querySelectorAll("[data-resize]")) {
    dragToResize(handle, RESIZERS[handle.dataset.resize], (size) => {
      sizes[handle.dataset.resize] = size;
      save("panes", sizes);
    });
  }

  collapsible(document.getElementById("picker-toggle"), workspace, "picker-hidden", "pickerHidden");
  collapsible(document.getElementById("log-toggle"), workspace, "log-hidden", "logHidden");
  const notes = document.getElementById("notes");
  notes.open = load("notesOpen", true);
  notes.addEventListener("toggle", () => save("notesOpen", notes.open));
}

/** A button that toggles a class on `target`, remembered under `key`. */
function collapsible(button, target, className, key) {
  const apply = (hidden) => {
    target.classList.toggle(className, hidden);
    button.setAttribute("aria-expanded", String(!hidden));
  };
  apply(load(key, false));
  button.addEventListener("click", () => {
    const hidden = !target.classList.contains(className);
    apply(hidden);
    save(key, hidden);
  });
}

function dragToResize(handle, { property, axis, sign, min, max }, onDone) {
  const pane = axis === "x" ? handle.previousElementSibling : handle.nextElementSibling;
  handle.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    handle.setPointerCapture(event.pointerId);
    const start = axis === "x" ? event.clientX : event.clientY;
    const rect = pane.getBoundingClientRect();
    const initial = axis === "x" ? rect.width : rect.height;
    let size = initial;
    const move = (e) => {
      const delta = (axis === "x" ? e.clientX : e.clientY) - start;
      size = Math.round(Math.max(min, Math.min(max, initial + sign * delta)));
      handle.closest(".workspace").style.setProperty(property, `${size}px`);
    };
    const up = () => {
      handle.removeEventListener("pointermove", move);
      handle.removeEventListener("pointerup", up);
      handle.removeEventListener("pointercancel", up);
      onDone(size);
    };
    handle.addEventListener("pointermove", move);
    handle.addEventListener("pointerup", up);
    handle.addEventListener("pointercancel", up);
  });
}
