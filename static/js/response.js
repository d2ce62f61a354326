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
// a browser would, and inlined. The pages of an app in debug mode that need their own scripts
// talking back to the app (Werkzeug's debugger, Flask-DebugToolbar) are loaded live from the
// app's address instead (livepreview.js).
//
// A streamed body shows when each piece arrived, and one the app broke off after its head (a
// stream whose generator raised) shows what came, a banner and the exception.
import { escapeHtml, paintHighlighted } from "./api.js";
import { el } from "./dom.js";
import { SCALE_EVENT, pageScale } from "./layout.js";
import { liveAddress, liveFrame } from "./livepreview.js";
import { subtabs } from "./tabs.js";

const MAX_SUBRESOURCES = 20;

/** The preview grows with the page's text size (A+, a 4K projector), never below 100%. */
function previewZoom() {
  return Math.max(1, pageScale());
}

const PREVIEW_CSP = "default-src 'none'; img-src data: blob:; media-src data: blob:; "
  + "style-src 'unsafe-inline' data:; font-src data:; script-src 'unsafe-inline'; "
  + "form-action 'none'; base-uri 'none'";

// Runs inside the frame: links and forms become requests in the panel, and the page's text
// size (A+) sets the frame's zoom.
function navigationScript(path) {
  return `(() => {
  addEventListener("message", (event) => {
    if (event.source === parent && event.data?.playground === "zoom") {
      document.documentElement.style.zoom = event.data.zoom;
    }
  });
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

export function humanMs(ms) {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

export function humanSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function headerValue(headers, name) {
  return headers.find(([n]) => n.toLowerCase() === name)?.[1] ?? null;
}

export class ResponseView {
  /**
   * A view made by the response_view macro (templates/_response_view.html) with ids starting
   * with `prefix`. onFollow(request) sends `request` again for the host to follow its
   * redirects (without it, no Follow button); onNavigate(request) sends what a click in the
   * preview asked for;
   * showException(container, error) renders a traceback; fetchFromApp(path) GETs a
   * stylesheet or image from the app for the preview (without it, the page is shown as it came);
   * appUrl() is the running app's address through the host, from which a debugger's page is
   * loaded live (without it, or when it gives null, from the body);
   * cookies: the CookieJar view, if this view has one.
   */
  constructor(root, { prefix, cookies = null, onFollow = null, onNavigate, showException, fetchFromApp = null, appUrl = () => null }) {
    this.root = root;
    this.fetchFromApp = fetchFromApp;
    this.appUrl = appUrl;
    this.cookies = cookies;
    this.prefix = prefix;
    const $ = (part) => root.querySelector(`#${prefix}-${part}`);
    this.status = $("status");
    this.meta = $("meta");
    this.redirect = $("redirect");
    this.redirects = $("redirects");
    this.location = $("location");
    this.followButton = $("follow");
    this.notFollowed = $("not-followed");
    this.exception = $("exception");
    this.broken = $("stream-broken");
    this.chunks = $("chunks");
    this.preview = $("preview");
    this.raw = $("raw");
    this.headers = $("headers");
    this.headersCount = $("headers-count");
    this.route = $("route");
    this.showException = showException;
    this.followable = Boolean(onFollow);
    this.tab = "preview";
    this.tabs = subtabs(root.querySelector(".subtabs"), $("body"), (name) => { this.tab = name; });
    this.followButton.addEventListener("click", () => onFollow(this.request));
    document.addEventListener(SCALE_EVENT, () => {
      const frame = this.preview.querySelector("iframe");
      if (frame?.src) frame.style.zoom = previewZoom(); // a live page: the frame zooms it
      else frame?.contentWindow?.postMessage({ playground: "zoom", zoom: previewZoom() }, "*");
    });
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
    this.request = null;
    this.redirects.hidden = true;
    this.status.textContent = "No response yet";
    delete this.status.dataset.class;
    this.meta.textContent = "";
    this.redirect.hidden = true;
    this.exception.hidden = true;
    this.broken.hidden = true;
    this.chunks.hidden = true;
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

  /** Shows `response`, the answer to `request` (after the redirects it lists, when followed). */
  show(response, request) {
    this.root.classList.remove("stale");
    this.root.removeAttribute("title");
    this.current = response;
    this.request = request;
    const { status, reason, headers, elapsed_ms: elapsed, size, content_type: type } = response;
    this.status.textContent = `${status} ${reason}`;
    this.status.dataset.class = `${String(status)[0]}xx`;
    this.meta.textContent = [`${Math.round(elapsed)} ms`, humanSize(size), type,
      response.tls && `${response.tls.protocol}`, response.truncated && "truncated"].filter(Boolean).join(" · ");
    // Which rule answered and why, in a line; the inspector ("Inside Flask") has the rest.
    this.route.textContent = response.route?.reason ?? "";
    this.route.dataset.outcome = response.route?.outcome ?? "";

    // The redirects the host followed to get here, and a redirect it did not (or was not asked to).
    const followed = response.redirects ?? [];
    this.redirects.hidden = !followed.length;
    this.redirects.textContent = `followed ${followed.map((hop) => `${hop.status} → ${hop.location}`).join(", ")}`;
    const location = headerValue(headers, "location");
    this.redirect.hidden = !(status >= 300 && status < 400 && location);
    this.location.textContent = location ?? "";
    this.followButton.hidden = !this.followable || request.follow_redirects;
    this.notFollowed.hidden = !request.follow_redirects;

    this.showStream(response);
    const exceptions = (response.events ?? []).filter((e) => e.type === "exception");
    this.exception.hidden = !exceptions.length;
    if (exceptions.length) this.showException(this.exception, exceptions.at(-1).error);

    this.headers.tBodies[0].replaceChildren(...headers.map(([name, value]) => el("tr", {}, el("th", {}, name), el("td", {}, value))));
    this.headersCount.textContent = headers.length;
    this.cookies?.show(response.cookies ?? [], response.set_cookies ?? []);

    const kind = this.renderBody(response, request);
    // The body's own page unless the visitor is looking at another part of the exchange.
    if (this.tab === "preview" || this.tab === "raw") this.tabs.select(kind === "text" ? "raw" : "preview");
  }

  /** When the pieces of a streamed body came (one sent without a Content-Length, as Flask sends
   * a generator's, in more than one piece), and whether the app broke the stream off after its
   * head. */
  showStream(response) {
    const error = response.error;
    this.broken.hidden = error?.code !== "stream_broken";
    if (!this.broken.hidden) {
      this.broken.replaceChildren(el("strong", {}, "Stream broken"), " (", el("code", {}, "stream_broken"), `): ${error.message}`);
    }
    const chunks = response.chunks ?? [];
    this.chunks.hidden = chunks.length < 2 || headerValue(response.headers, "content-length") !== null;
    if (this.chunks.hidden) return;
    const timed = chunks.reduce((sum, chunk) => sum + chunk.size, 0);
    const rows = chunks.map((chunk, i) => el("tr", {}, el("td", {}, String(i + 1)), el("td", {}, humanMs(chunk.at_ms)),
      el("td", {}, i ? `+${humanMs(chunk.at_ms - chunks[i - 1].at_ms)}` : ""), el("td", {}, humanSize(chunk.size))));
    this.chunks.replaceChildren(
      el("summary", {}, `Streamed in ${chunks.length} chunks: the first after ${humanMs(chunks[0].at_ms)}, `
        + `the last after ${humanMs(chunks.at(-1).at_ms)}${timed < response.size ? ` (the first ${chunks.length} timed)` : ""}`),
      el("table", { className: "chunks-table" },
        el("thead", {}, el("tr", {}, el("th", {}, "#"), el("th", {}, "arrived after"), el("th", {}, "after the one before"), el("th", {}, "size"))),
        el("tbody", {}, ...rows)));
  }

  /** Fills the preview and raw pages; returns what the body is: html, json, binary, empty or text. */
  renderBody(response, request) {
    const type = (response.content_type ?? "").toLowerCase();
    // The body is the page at the end of any redirects followed: its links start from there.
    const path = response.request?.path ?? request.path;
    this.preview.replaceChildren();
    if (response.body_base64 !== null && response.body_base64 !== undefined) {
      this.raw.textContent = `(binary body, ${humanSize(response.size)}: see Preview)`;
      this.preview.append(this.binary(response, path));
      return "binary";
    }
    const body = response.body;
    paintHighlighted(this.raw, body, type || "text");
    if (!body) {
      this.preview.innerHTML = '<p class="empty">(empty body)</p>';
      return "empty";
    }
    const live = type.startsWith("text/html") ? liveAddress(response, request, this.appUrl()) : null;
    if (live) {
      const { frame, note } = liveFrame(live, { testid: `${this.prefix}-preview`, zoom: previewZoom() });
      this.preview.append(note, frame);
      return "html";
    }
    if (type.startsWith("text/html") || type.startsWith("application/xhtml")) {
      const frame = el("iframe", { title: "Preview of the app's HTML (sandboxed)", "data-testid": `${this.prefix}-preview` });
      frame.setAttribute("sandbox", "allow-scripts allow-forms");
      this.preview.append(frame);
      this.withSubresources(body, path).then((html) => {
        if (this.current !== response) return;
        frame.srcdoc = `<meta http-equiv="Content-Security-Policy" content="${PREVIEW_CSP}">`
          + `<style data-playground>html { zoom: ${previewZoom()}; }</style>`
          + `<script>${navigationScript(path)}</script>${html}`;
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
        const pre = el("pre", { className: "hl" });
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
      .filter((node) => local(node.getAttribute(node.tagName === "IMG" ? "src" : "href")))
      .slice(0, MAX_SUBRESOURCES);
    if (!targets.length || !this.fetchFromApp) return html;
    await Promise.all(targets.map(async (node) => {
      const isImage = node.tagName === "IMG";
      const answer = await this.fetchFromApp(local(node.getAttribute(isImage ? "src" : "href")));
      if (!answer || answer.status !== 200) return;
      if (isImage && answer.body_base64) {
        node.setAttribute("src", `data:${answer.content_type};base64,${answer.body_base64}`);
      } else if (!isImage) {
        const style = doc.createElement("style");
        style.textContent = answer.body;
        node.replaceWith(style);
      }
    }));
    const doctype = doc.doctype ? "<!doctype html>" : "";
    return doctype + doc.documentElement.outerHTML;
  }

  /**
   * A binary body: a link that downloads it, and an image shown if it is one. Nothing the app
   * sent may become a document of this page's origin: the download is a blob typed
   * application/octet-stream (opened in a tab, it downloads again), and the image is a data:
   * URL, whose origin is nobody's.
   */
  binary(response, path) {
    const bytes = Uint8Array.from(atob(response.body_base64), (c) => c.charCodeAt(0));
    const type = response.content_type || "application/octet-stream";
    if (this.blobUrl) URL.revokeObjectURL(this.blobUrl);
    this.blobUrl = URL.createObjectURL(new Blob([bytes], { type: "application/octet-stream" }));
    const link = el("a", { href: this.blobUrl, download: path.split("?")[0].split("/").pop() || "response.bin",
      "data-testid": `${this.prefix}-download` }, "Download");
    return el("div", { className: "binary" },
      el("p", {}, `Binary body: ${humanSize(response.size)} of ${type}${response.truncated ? " (truncated)" : ""}. `, link),
      type.startsWith("image/") && el("img", { src: `data:${type};base64,${response.body_base64}`, alt: "The image the app returned" }));
  }
}
