// Everything the page keeps in localStorage, under one prefix: edits per
// snippet per file and its App field, theme, text size, pane sizes, the last
// snippet and the flask command line's history.
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

/** Which app the visitor runs for a snippet, as `flask --app` takes it ("" to look for it), or
 * null when they kept the snippet's own (a share's App field, or none). */
export function loadAppSpec(slug) {
  return load(`app:${slug}`, null);
}

export function saveAppSpec(slug, spec) {
  save(`app:${slug}`, spec);
}

/** Whether the visitor changed the snippet: its files or its App field. */
export function hasEdits(slug) {
  return Object.keys(loadEdits(slug)).length > 0 || loadAppSpec(slug) !== null;
}
