// The response view: status line, body (preview, raw), headers and cookies.
//
// HTML from the child is shown in <iframe sandbox="allow-scripts allow-forms" srcdoc=...>.
// Without allow-same-origin the frame is a unique opaque origin: it cannot read
// the host's cookies, storage or DOM, even with scripts on. Scripts are allowed
// so a snippet's own inline JavaScript runs, and so a small script of ours can
// turn link clicks and form posts into requests sent through this panel (forms
// must be allowed for their submit event to fire at all; the CSP's
// form-action 'none' still stops any real submission). A CSP
// in the frame forbids every fetch: the preview never reaches the host or the
// network (the child's /static URLs would otherwise resolve against the host);
// instead the app's own stylesheets and images are fetched through the proxy, as
// a browser would, and inlined.
import { escapeHtml, paintHighlighted } from "./api.js";
import { subtabs } from "./tabs.js";

const MAX_SUBRESOURCES = 20;

/** The preview grows with the page's text size (A+, a 4K projector), never below 100%. */
function previewZoom() {
  const size = parseFloat(getComputedStyle(document.documentElement).getPropertyValue("--font-size"));
  return Math.max(1, size / 16);
}

const PREVIEW_CSP = "default-src 'none'; img-src data: blob:; media-src data: blob:; "
  + "style-src 'unsafe-inline' data:; font-src data:; script-src 'unsafe-inline'; "
  + "form-action 'none'; base-uri 'none'";

// Runs inside the frame: links and forms become requests in the panel.
function navigationScript(path) {
  return `(() => {
  const base = new URL(${JSON.stringify(path)}, "http://app.invalid");
  const send = (method, url, body) => parent.postMessage({ playground: "navigate", method,
    path: url.pathname + url.search, body }, "*");
  const local = (href) => { const url = new URL(href, base); return url.origin === base.origin ? url : null; };
  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[href]");
    if (!link || link.getAttribute("href").startsWith("#")) return;
    event.preventDefault();
    const url = local(link.getAttribute("href"));
    if (url) send("GET", url, null);
  });
  document.addEventListener("submit", (event) => {
    event.preventDefault();
    const form = event.target;
    const url = local(form.getAttribute("action") || base.href);
    if (!url) return;
    const data = new URLSearchParams(new FormData(form, event.submitter)).toString();
    if ((form.getAttribute("method") || "GET").toUpperCase() === "GET") {
      url.search = data;
      send("GET", url, null);
    } else {
      send("POST", url, data);
    }
  });
})();`.replace(/<\//g, "<\\/");
}

function humanSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function headerValue(headers, name) {
  return headers.find(([n]) => n.toLowerCase() === name)?.[1] ?? null;
}

export class ResponseView {
  /**
   * onFollow(location, status) follows a redirect; onNavigate(request) sends what a
   * click in the preview asked for; showException(container, error) renders a traceback;
   * fetchFromApp(path) GETs a stylesheet or image from the app for the preview.
   */
  constructor(root, { cookies, onFollow, onNavigate, showException, fetchFromApp }) {
    this.root = root;
    this.fetchFromApp = fetchFromApp;
    this.cookies = cookies;
    const $ = (id) => root.querySelector(`#${id}`);
    this.status = $("response-status");
    this.meta = $("response-meta");
    this.redirect = $("response-redirect");
    this.location = $("redirect-location");
    this.exception = $("response-exception");
    this.preview = $("response-preview");
    this.raw = $("response-raw");
    this.headers = $("response-headers");
    this.headersCount = $("response-headers-count");
    this.route = $("response-route");
    this.showException = showException;
    this.tab = "preview";
    this.tabs = subtabs(root.querySelector(".subtabs"), $("response-body"), (name) => { this.tab = name; });
    $("follow-button").addEventListener("click", () => onFollow(this.location.textContent, this.current.status));
    window.addEventListener("message", (event) => {
      const frame = this.preview.querySelector("iframe");
      if (!frame || event.source !== frame.contentWindow || event.data?.playground !== "navigate") return;
      const { method, path, body } = event.data;
      if (typeof path !== "string" || !path.startsWith("/")) return;
      onNavigate({ method: method === "POST" ? "POST" : "GET", path, body: body ?? null,
        headers: body === null || body === undefined ? {} : { "Content-Type": "application/x-www-form-urlencoded" } });
    });
  }

  clear() {
    this.current = null;
    this.status.textContent = "No response yet";
    delete this.status.dataset.class;
    this.meta.textContent = "";
    this.redirect.hidden = true;
    this.exception.hidden = true;
    this.preview.innerHTML = '<p class="empty">Send a request to see the app\'s answer.</p>';
    this.raw.textContent = "";
    this.headers.tBodies[0].replaceChildren();
    this.headersCount.textContent = "";
    this.route.textContent = "";
    this.tabs.select("preview"); // a new snippet starts from its answer, not the last tab looked at
  }

  pending(request) {
    this.status.textContent = `${request.method} ${request.path} …`;
    this.status.dataset.class = "pending";
  }

  /** No answer from the child (502/504) or the host said no. */
  failed(message) {
    this.clear();
    this.status.textContent = "No response";
    this.status.dataset.class = "error";
    this.meta.textContent = message;
  }

  /** The app was run again: what is shown came from the code before. */
  markStale() {
    if (!this.current) return;
    this.root.classList.add("stale");
    this.root.title = "This answer came from the previous run: send again to see the new code's.";
  }

  show(response, request) {
    this.root.classList.remove("stale");
    this.root.removeAttribute("title");
    this.current = response;
    const { status, reason, headers, elapsed_ms: elapsed, size, content_type: type } = response;
    this.status.textContent = `${status} ${reason}`;
    this.status.dataset.class = `${String(status)[0]}xx`;
    this.meta.textContent = [`${Math.round(elapsed)} ms`, humanSize(size), type,
      response.tls && `${response.tls.protocol}`, response.truncated && "truncated"].filter(Boolean).join(" · ");
    // Which rule answered and why, in a line; the inspector ("Inside Flask") has the rest.
    this.route.textContent = response.route?.reason ?? "";
    this.route.dataset.outcome = response.route?.outcome ?? "";

    const location = headerValue(headers, "location");
    this.redirect.hidden = !(status >= 300 && status < 400 && location);
    this.location.textContent = location ?? "";

    const exceptions = (response.events ?? []).filter((e) => e.type === "exception");
    this.exception.hidden = !exceptions.length;
    if (exceptions.length) this.showException(this.exception, exceptions.at(-1).error);

    this.headers.tBodies[0].replaceChildren(...headers.map(([name, value]) => {
      const row = document.createElement("tr");
      row.innerHTML = "<th></th><td></td>";
      [row.cells[0].textContent, row.cells[1].textContent] = [name, value];
      return row;
    }));
    this.headersCount.textContent = headers.length;
    this.cookies.show(response.cookies ?? [], response.set_cookies ?? []);

    const kind = this.renderBody(response, request);
    // The body's own page unless the visitor is looking at another part of the exchange.
    if (this.tab === "preview" || this.tab === "raw") this.tabs.select(kind === "text" ? "raw" : "preview");
  }

  /** Fills the preview and raw pages; returns what the body is: html, json, binary, empty or text. */
  renderBody(response, request) {
    const type = (response.content_type ?? "").toLowerCase();
    this.preview.replaceChildren();
    if (response.body_base64 !== null && response.body_base64 !== undefined) {
      this.raw.textContent = `(binary body, ${humanSize(response.size)}: see Preview)`;
      this.preview.append(this.binary(response, request));
      return "binary";
    }
    const body = response.body;
    paintHighlighted(this.raw, body, type || "text");
    if (!body) {
      this.preview.innerHTML = '<p class="empty">(empty body)</p>';
      return "empty";
    }
    if (type.startsWith("text/html") || type.startsWith("application/xhtml")) {
      const frame = document.createElement("iframe");
      frame.setAttribute("sandbox", "allow-scripts allow-forms");
      frame.dataset.testid = "response-preview";
      frame.title = "Preview of the app's HTML (sandboxed)";
      this.preview.append(frame);
      this.withSubresources(body, request.path).then((html) => {
        if (this.current !== response) return;
        frame.srcdoc = `<meta http-equiv="Content-Security-Policy" content="${PREVIEW_CSP}">`
          + `<style data-playground>html { zoom: ${previewZoom()}; }</style>`
          + `<script>${navigationScript(request.path)}</script>${html}`;
      });
      return "html";
    }
    if (type.includes("json")) {
      let pretty = null;
      try {
        pretty = JSON.stringify(JSON.parse(body), null, 2);
      } catch {
        // Not valid JSON after all: the raw page shows it as it came.
      }
      if (pretty !== null) {
        const pre = document.createElement("pre");
        pre.className = "hl";
        this.preview.append(pre);
        paintHighlighted(pre, pretty, "json");
        return "json";
      }
    }
    this.preview.innerHTML = `<pre class="plain">${escapeHtml(body)}</pre>`;
    return "text";
  }

  /** The page with the app's own stylesheets and images inlined (the frame may fetch nothing). */
  async withSubresources(html, path) {
    const doc = new DOMParser().parseFromString(html, "text/html"); // inert: loads and runs nothing
    const base = new URL(path, "http://app.invalid");
    const local = (href) => {
      const url = new URL(href, base);
      return url.origin === base.origin ? url.pathname + url.search : null;
    };
    const targets = [...doc.querySelectorAll('link[rel~="stylesheet"][href], img[src]')]
      .filter((el) => local(el.getAttribute(el.tagName === "IMG" ? "src" : "href")))
      .slice(0, MAX_SUBRESOURCES);
    if (!targets.length) return html;
    await Promise.all(targets.map(async (el) => {
      const isImage = el.tagName === "IMG";
      const answer = await this.fetchFromApp(local(el.getAttribute(isImage ? "src" : "href")));
      if (!answer || answer.status !== 200) return;
      if (isImage && answer.body_base64) {
        el.setAttribute("src", `data:${answer.content_type};base64,${answer.body_base64}`);
      } else if (!isImage) {
        const style = doc.createElement("style");
        style.textContent = answer.body;
        el.replaceWith(style);
      }
    }));
    const doctype = doc.doctype ? "<!doctype html>" : "";
    return doctype + doc.documentElement.outerHTML;
  }

  binary(response, request) {
    const box = document.createElement("div");
    box.className = "binary";
    const bytes = Uint8Array.from(atob(response.body_base64), (c) => c.charCodeAt(0));
    const type = response.content_type || "application/octet-stream";
    if (this.blobUrl) URL.revokeObjectURL(this.blobUrl);
    const url = URL.createObjectURL(new Blob([bytes], { type }));
    this.blobUrl = url;
    const note = document.createElement("p");
    note.textContent = `Binary body: ${humanSize(response.size)} of ${type}${response.truncated ? " (truncated)" : ""}. `;
    const link = document.createElement("a");
    link.href = url;
    link.download = request.path.split("?")[0].split("/").pop() || "response.bin";
    link.textContent = "Download";
    note.append(link);
    box.append(note);
    if (type.startsWith("image/")) {
      const img = document.createElement("img");
      img.src = url;
      img.alt = "The image the app returned";
      box.append(img);
    }
    return box;
  }
}
