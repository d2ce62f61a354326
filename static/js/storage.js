// Everything the page keeps in localStorage, under one prefix: edits per
// snippet per file, theme, text size, pane sizes and the last snippet.
const PREFIX = "playground:";

export function load(key, fallback = null) {
  try {
    const value = JSON.parse(localStorage.getItem(PREFIX + key));
    return value ?? fallback;
  } catch {
    return fallback;
  }
}

export function save(key, value) {
  try {
    if (value === null || value === undefined) localStorage.removeItem(PREFIX + key);
    else localStorage.setItem(PREFIX + key, JSON.stringify(value));
  } catch {
    // Storage full or disabled (private mode): the page still works, it just forgets.
  }
}

/** The visitor's edited files of a snippet: {path: text}, only files that differ. */
export function loadEdits(slug) {
  return load(`edits:${slug}`, {});
}

export function saveEdits(slug, edits) {
  save(`edits:${slug}`, Object.keys(edits).length ? edits : null);
}

export function hasEdits(slug) {
  return Object.keys(loadEdits(slug)).length > 0;
}
