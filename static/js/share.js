// Share and take home: a short link that opens the visitor's files in anyone's
// editor (the same code always gives the same link), and a zip that runs on its
// own with `python app.py` or `flask run`.
import { api } from "./api.js";

export class Sharing {
  /** files(): the editor's files; current(): {slug, title, app} of what is open (app: the App
   * field, "" to let Flask look for the app). */
  constructor({ shareButton, downloadButton, dialog, files, current }) {
    this.dialog = dialog;
    this.files = files;
    this.current = current;
    this.link = dialog.querySelector("#share-link");
    this.error = dialog.querySelector("#share-error");
    shareButton.addEventListener("click", () => this.share());
    downloadButton.addEventListener("click", () => this.download());
    dialog.querySelector("#share-copy").addEventListener("click", () => this.copy());
    this.link.addEventListener("focus", () => this.link.select());
  }

  async share() {
    this.error.textContent = "";
    this.link.value = "…";
    this.dialog.showModal();
    try {
      const { slug, app } = this.current();
      const { url } = await api("POST", "/api/shares", { files: this.files(), slug, app });
      this.link.value = url;
      this.link.select();
    } catch (error) {
      this.link.value = "";
      this.error.textContent = error.message;
    }
  }

  async copy() {
    try {
      await navigator.clipboard.writeText(this.link.value);
      this.error.textContent = "Copied.";
    } catch {
      this.link.select();
      this.error.textContent = "Press Ctrl/⌘+C to copy.";
    }
  }

  async download() {
    const name = this.current().slug?.replace(/^share:/, "") || "flask-app";
    const response = await fetch("/api/download", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ files: this.files(), name, app: this.current().app }),
    }).catch(() => null);
    if (!response?.ok) {
      const message = (await response?.json().catch(() => null))?.error?.message;
      alert(`The download failed: ${message ?? "the playground cannot be reached."}`);
      return;
    }
    const url = URL.createObjectURL(await response.blob());
    const link = document.createElement("a");
    link.href = url;
    link.download = `${name}.zip`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }
}

/** The share this page was opened for (/s/<key> sends visitors to /?share=<key>), or null. */
export async function sharedOnLoad() {
  const key = new URLSearchParams(location.search).get("share");
  if (!key) return null;
  return api("GET", `/api/shares/${encodeURIComponent(key)}`);
}
