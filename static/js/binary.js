// Files that are not text. The API gives such a file as {"base64": "..."} (docs/api.md
// "Files"); the editor shows it as what it is, its size, type and (for an image) a preview,
// and a file read from disk becomes text or binary by the host's own rule: UTF-8 without a NUL
// byte is text.
import { el } from "./dom.js";
import { humanSize } from "./response.js";

// What a file's name says it holds, for the files a Flask app ships that are not text.
const TYPES = {
  ico: "image/vnd.microsoft.icon", png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg",
  gif: "image/gif", webp: "image/webp", bmp: "image/bmp", avif: "image/avif",
  woff: "font/woff", woff2: "font/woff2", ttf: "font/ttf", otf: "font/otf",
  pdf: "application/pdf", zip: "application/zip", gz: "application/gzip",
  db: "application/vnd.sqlite3", sqlite: "application/vnd.sqlite3", sqlite3: "application/vnd.sqlite3",
};

export function isBinary(value) {
  return typeof value === "object" && value !== null && typeof value.base64 === "string";
}

/** Whether two file values (text, or {base64}) hold the same content. */
export function sameContent(a, b) {
  return isBinary(a) && isBinary(b) ? a.base64 === b.base64 : a === b;
}

export function typeOf(path) {
  return TYPES[path.split(".").pop().toLowerCase()] ?? "application/octet-stream";
}

export function sizeOf(value) {
  const text = value.base64;
  return (text.length / 4) * 3 - (text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0);
}

export function toBase64(bytes) {
  let binary = "";
  // In slices: String.fromCharCode takes its arguments on the stack.
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

export function fromBase64(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/** A file's bytes as the API takes them: its text, or {base64} when it is not text. */
export function valueOfBytes(bytes) {
  if (!bytes.includes(0)) {
    try {
      return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
    } catch {
      // Not UTF-8: binary.
    }
  }
  return { base64: toBase64(bytes) };
}

export async function readFile(file) {
  return new Uint8Array(await file.arrayBuffer());
}

/**
 * The editor's view of a binary file: no text to edit, but what it is, a preview of an image,
 * a download of it, and a way to replace it with another file from disk. It answers the calls
 * the editor makes of a text view (marks, scrolling) by doing nothing: it has no lines.
 */
export class BinaryView {
  constructor(path, value, { onReplace }) {
    this.onReplace = onReplace;
    this.summary = el("p", { className: "binary-summary" });
    this.preview = el("div", { className: "binary-preview" });
    this.download = el("a", { className: "small", "data-testid": "binary-download" }, "Download");
    this.picker = el("input", { type: "file", hidden: true, "data-testid": "binary-replace-input" });
    this.replaceButton = el("button", { type: "button", className: "small" }, "Replace with a file…");
    this.focusable = el("div", { className: "binary-file", tabIndex: 0, "data-testid": "binary-file" },
      this.summary, this.preview,
      el("p", { className: "binary-actions" }, this.download, " ", this.replaceButton, this.picker),
      el("p", { className: "binary-note" },
        "Not text, so it cannot be edited here; it is sent to the app byte for byte."));
    this.root = el("div", { className: "code-view binary-view", hidden: true }, this.focusable);
    this.replaceButton.addEventListener("click", () => this.picker.click());
    this.picker.addEventListener("change", async () => {
      const file = this.picker.files[0];
      this.picker.value = "";
      if (file) this.onReplace(this, valueOfBytes(await readFile(file)));
    });
    this.path = path;
    this.setText(value);
  }

  get text() {
    return this.value;
  }

  rename(path) {
    this.path = path;
    this.focusable.setAttribute("aria-label", `${path}, a binary file`);
    this.setText(this.value);
  }

  /** Shows another content (a mirror's update, a replacement). */
  setText(value) {
    this.value = value;
    const type = typeOf(this.path);
    this.summary.textContent = `${this.path.split("/").pop()}: ${humanSize(sizeOf(value))}, ${type}`;
    this.preview.replaceChildren();
    // An image from a data: URL in an <img>: it can show pixels, never run anything.
    if (type.startsWith("image/")) {
      this.preview.append(el("img", { src: `data:${type};base64,${value.base64}`, alt: `${this.path}, as an image` }));
    }
    if (this.download.href) URL.revokeObjectURL(this.download.href);
    this.download.href = URL.createObjectURL(new Blob([fromBase64(value.base64)], { type: "application/octet-stream" }));
    this.download.download = this.path.split("/").pop();
  }

  // No lines, so nothing to mark, highlight or scroll to.
  markLine() {}
  clearMark() {}
  revealLine() {}
  highlightSoon() {}
  scrollTo() {}
}
