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

/** The visitor's edits of a snippet: {path: text} of the files that differ or were added, and
 * {path: null} of the ones deleted. */
export function loadEdits(slug) {
  return load(`edits:${slug}`, {});
}

export function saveEdits(slug, edits) {
  save(`edits:${slug}`, Object.keys(edits).length ? edits : null);
}

export function hasEdits(slug) {
  return Object.keys(loadEdits(slug)).length > 0;
}
