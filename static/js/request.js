// The request panel, as Postman and Hoppscotch users know it: method and path, the query as
// rows kept in sync with the path both ways, headers, Basic and Bearer auth (written as a header
// the visitor sees), a body (raw, JSON with Format, form fields, a file from disk: in a multipart
// form or as the whole body, sent as body_base64), whether the host follows redirects, a pasted
// curl command read in and the request copied as one; then the snippet's suggested requests, the
// app's routes and this session's history.
import { AuthHelper } from "./auth.js";
import { fromBase64, readFile, toBase64 } from "./binary.js";
import { CurlError, readCurl, toCurl } from "./curl.js";
import { KeyValueRows } from "./keyvalue.js";
import { multipart } from "./multipart.js";
import { humanSize } from "./response.js";
import { load, save } from "./storage.js";
import { subtabs } from "./tabs.js";

const CONTENT_TYPES = { json: "application/json", form: "application/x-www-form-urlencoded" };
const MULTIPART = "multipart/form-data"; // a form with a file; the boundary is added as it is sent

export class RequestPanel {
  /**
   * onSend(request, origin) sends; origin is a chip or null. onShow(entry) shows an old
   * exchange; onGoto(file, line) shows a view's code; appUrl() is the running app's address
   * through the host (the sandbox's `url`), or null.
   */
  constructor(root, { onSend, onShow, onGoto, appUrl }) {
    this.root = root;
    this.onSend = onSend;
    this.onShow = onShow;
    this.appUrl = appUrl;
    const $ = (id) => root.querySelector(`#${id}`);
    this.method = $("request-method");
    this.path = $("request-path");
    this.body = $("request-body");
    this.bodyHint = $("body-hint");
    this.chips = $("suggested-requests");
    this.routesList = $("routes-list");
    this.historyList = $("history-list");
    this.counts = { params: $("params-count"), headers: $("headers-count"), routes: $("routes-count"),
      history: $("history-count"), body: $("body-mode-label") };
    this.history = [];
    this.tabs = subtabs(root.querySelector(".subtabs"), root.querySelector(".subtab-pages"));

    // The query: rows written from the path as it is typed, and the path from the rows.
    this.params = new KeyValueRows($("query-params"), {
      namePlaceholder: "Parameter", valuePlaceholder: "value", onChange: () => {
        this.path.value = withQuery(this.path.value, this.params.get());
        this.updateCounts();
      },
    });
    this.path.addEventListener("input", () => this.readQuery());
    this.headers = new KeyValueRows($("request-headers"), {
      namePlaceholder: "Header", valuePlaceholder: "value", onChange: () => {
        this.auth.read();
        this.updateCounts();
      },
    });
    this.auth = new AuthHelper(root.querySelector("[data-page=auth]"), this.headers, {
      label: $("auth-label"), onChange: () => this.updateCounts(),
    });
    this.follow = $("follow-redirects");
    this.follow.checked = load("followRedirects", false);
    this.follow.addEventListener("change", () => save("followRedirects", this.follow.checked));
    this.setupCurl($);
    this.formFields = new KeyValueRows($("request-form-fields"), {
      namePlaceholder: "field", valuePlaceholder: "value", onChange: () => {},
    });
    this.body.addEventListener("input", () => this.checkJson());
    this.file = { row: $("request-file-row"), field: $("request-file-field"), input: $("request-file"),
      info: $("request-file-info"), clear: $("request-file-clear") };
    this.picked = null; // {name, type, bytes} of the file to send, or null
    this.file.input.addEventListener("change", async () => {
      const file = this.file.input.files[0];
      if (file) this.pick({ name: file.name, type: file.type, bytes: await readFile(file) });
    });
    this.file.clear.addEventListener("click", () => this.pick(null));
    this.formatButton = $("body-format");
    this.formatButton.addEventListener("click", () => this.formatJson());
    for (const radio of root.querySelectorAll("input[name=body-mode]")) {
      radio.addEventListener("change", () => this.setMode(radio.value, { setHeader: true }));
    }
    this.method.addEventListener("change", () => { this.method.value = this.method.value.trim().toUpperCase(); });
    this.method.addEventListener("focus", () => this.method.select());
    $("request-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.send();
    });
    this.routesList.addEventListener("click", (event) => {
      const button = event.target.closest("[data-rule]");
      if (button) this.useRoute(button.dataset.rule, button.dataset.method);
      const view = event.target.closest("[data-file]");
      if (view) onGoto(view.dataset.file, Number(view.dataset.line));
    });
    this.historyList.addEventListener("click", (event) => {
      const item = event.target.closest("[data-index]");
      if (!item) return;
      const entry = this.history[Number(item.dataset.index)];
      if (event.target.closest(".resend")) {
        this.fill(entry.request);
        this.onSend(entry.request, null);
      } else {
        this.fill(entry.request);
        this.onShow(entry);
      }
    });
    this.setMode("none");
  }

  get mode() {
    return this.root.querySelector("input[name=body-mode]:checked").value;
  }

  setMode(mode, { setHeader = false } = {}) {
    this.root.querySelector(`input[name=body-mode][value=${mode}]`).checked = true;
    this.body.hidden = ["none", "form", "file"].includes(mode);
    this.file.row.hidden = mode !== "form" && mode !== "file";
    this.file.field.hidden = mode !== "form";
    this.body.placeholder = mode === "json" ? '{"name": "value"}' : "Request body";
    this.formatButton.hidden = mode !== "json";
    this.formFields.container.hidden = mode !== "form";
    this.counts.body.textContent = mode === "none" ? "" : mode;
    if (setHeader) {
      const current = this.headers.valueOf("Content-Type");
      if (CONTENT_TYPES[mode]) this.headers.put("Content-Type", CONTENT_TYPES[mode]);
      else if ([...Object.values(CONTENT_TYPES), MULTIPART].includes(current)) this.headers.put("Content-Type", null);
    }
    if (setHeader && this.picked) this.pick(this.picked); // the file's own Content-Type
    this.checkJson();
    this.updateCounts();
  }

  /** A file to send (or none): in form mode the form goes as multipart/form-data; with
   * `setHeader`, Content-Type says so. */
  pick(file, { setHeader = true } = {}) {
    this.picked = file;
    if (!file) this.file.input.value = "";
    this.file.info.textContent = file ? `${file.name}, ${humanSize(file.bytes.length)}` : "";
    this.file.clear.hidden = !file;
    if (!setHeader) return;
    if (this.mode === "form") {
      this.headers.put("Content-Type", file ? MULTIPART : CONTENT_TYPES.form);
    } else if (this.mode === "file" && file) {
      this.headers.put("Content-Type", file.type || "application/octet-stream");
    }
  }

  checkJson() {
    let hint = "";
    if (this.mode === "json" && this.body.value.trim()) {
      try {
        JSON.parse(this.body.value);
      } catch (error) {
        hint = `not valid JSON (${error.message.replace(/^JSON\.parse: /, "")}); it is sent as typed`;
      }
    }
    this.bodyHint.textContent = hint;
  }

  /** Lays out a JSON body with two-space indents, as one step Ctrl+Z takes back; a body that is
   * not JSON stays as typed, and the hint says what is wrong. */
  formatJson() {
    let pretty;
    try {
      pretty = JSON.stringify(JSON.parse(this.body.value), null, 2);
    } catch {
      this.checkJson();
      return;
    }
    this.body.focus();
    this.body.select();
    if (!document.execCommand("insertText", false, pretty)) this.body.value = pretty;
    this.checkJson();
  }

  updateCounts() {
    this.counts.params.textContent = this.params.get().length || "";
    this.counts.headers.textContent = this.headers.get().length || "";
    this.counts.history.textContent = this.history.length || "";
  }

  /** The query rows as the path says, the rows left out (unticked) kept at the end. */
  readQuery() {
    const left = this.params.all().filter(([, , enabled]) => !enabled);
    this.params.set([...queryPairs(this.path.value), ...left]);
    this.updateCounts();
  }

  // -- curl in and out ------------------------------------------------------------------------

  setupCurl($) {
    this.curlImport = $("curl-import-form");
    this.curlText = $("curl-import");
    this.curlError = $("curl-error");
    this.curlNote = $("curl-note");
    this.curlCopy = $("curl-copy");
    this.curlCommand = $("curl-command");
    this.curlStatus = $("curl-copy-status");
    const importButton = $("curl-import-button");
    const copyButton = $("curl-copy-button");
    const toggle = (box, button, open) => {
      box.hidden = !open;
      button.setAttribute("aria-expanded", String(open));
    };
    // One box at a time: the response keeps its room.
    this.toggleImport = (open) => {
      toggle(this.curlImport, importButton, open);
      if (open) toggle(this.curlCopy, copyButton, false);
    };
    this.toggleCopy = (open) => {
      toggle(this.curlCopy, copyButton, open);
      if (open) toggle(this.curlImport, importButton, false);
    };
    importButton.addEventListener("click", () => {
      this.toggleImport(this.curlImport.hidden);
      if (!this.curlImport.hidden) this.curlText.focus();
    });
    this.curlImport.addEventListener("submit", (event) => {
      event.preventDefault();
      this.importCurl(this.curlText.value);
    });
    this.curlText.addEventListener("keydown", (event) => {
      if ((event.ctrlKey || event.metaKey) && event.key === "Enter") {
        event.preventDefault();
        event.stopPropagation(); // not the page's Ctrl+Enter (send)
        this.importCurl(this.curlText.value);
      } else if (event.key === "Escape") {
        this.closeImport();
      }
    });
    this.curlText.addEventListener("input", () => { this.curlError.textContent = ""; });
    this.curlImport.querySelector(".cancel").addEventListener("click", () => this.closeImport());
    // A curl command pasted over the path fills the whole request, as in Hoppscotch.
    this.path.addEventListener("paste", (event) => {
      const text = event.clipboardData?.getData("text/plain") ?? "";
      if (!/^\s*(\$\s+)?curl(\.exe)?\s/.test(text)) return;
      event.preventDefault();
      this.importCurl(text);
    });
    copyButton.addEventListener("click", () => {
      this.toggleCopy(this.curlCopy.hidden);
      if (!this.curlCopy.hidden) this.copyCurl();
    });
    $("curl-copy-again").addEventListener("click", () => this.copyCurl());
    // An open command follows the request as it is edited.
    this.root.addEventListener("input", (event) => {
      if (!this.curlCopy.hidden && event.target !== this.curlText) this.showCurl();
    });
    this.curlCopy.querySelector(".cancel").addEventListener("click", () => {
      this.toggleCopy(false);
      copyButton.focus();
    });
  }

  /** Fills the panel from a curl command; what it cannot read is said, and the text kept. */
  importCurl(text) {
    let request;
    try {
      request = readCurl(text, location.host);
    } catch (error) {
      if (!(error instanceof CurlError)) throw error;
      this.curlText.value = text; // a paste over the path is not lost
      this.toggleImport(true);
      this.curlError.textContent = `This curl command cannot be imported: ${error.message}`;
      this.curlText.focus();
      return;
    }
    this.fill(request);
    this.follow.checked = request.followRedirects;
    save("followRedirects", this.follow.checked);
    this.curlNote.textContent = `Imported ${request.method} ${request.path}`
      + (request.left.length ? `; left out, as they do not change the request: ${request.left.join(" ")}` : "");
    this.curlNote.hidden = false;
    this.curlText.value = "";
    this.toggleImport(false);
    this.path.focus();
  }

  closeImport() {
    this.toggleImport(false);
    this.curlError.textContent = "";
    this.root.querySelector("#curl-import-button").focus();
  }

  /** The request as a command for the app's address through the host. */
  showCurl() {
    const url = this.appUrl();
    const file = ["form", "file"].includes(this.mode) ? this.picked?.name : null;
    this.curlCommand.value = url ? toCurl(this.current(), url, { fileName: file ?? undefined }) : "";
    this.curlCommand.style.height = "auto"; // then as tall as its wrapped lines, up to the CSS's most
    this.curlCommand.style.height = `${this.curlCommand.scrollHeight + 2}px`;
    this.curlStatus.textContent = !url ? "Run the app first: the command needs its address."
      : file ? `curl reads ${file} from the folder where it runs.` : "";
    return url !== null;
  }

  async copyCurl() {
    if (!this.showCurl()) return;
    this.curlCommand.focus();
    this.curlCommand.select();
    // The clipboard API needs a secure context, which a laptop on http://<the host's address>
    // is not: the older command works there, and the text is selected for Ctrl+C anyway.
    let copied = false;
    try {
      await navigator.clipboard.writeText(this.curlCommand.value);
      copied = true;
    } catch {
      copied = document.execCommand("copy");
    }
    this.curlStatus.textContent = `${copied ? "Copied." : "Selected: press Ctrl/⌘+C to copy it."} ${this.curlStatus.textContent}`;
  }

  /** The request as the form describes it. */
  current() {
    let path = this.path.value.trim() || "/";
    // Pasting a whole URL (http://localhost:5000/x?y=1) keeps only the path and query.
    const url = path.match(/^https?:\/\/[^/?#]*(.*)$/i);
    if (url) path = url[1] || "/";
    if (!path.startsWith("/")) path = `/${path}`;
    path = asRequestTarget(path);
    const mode = this.mode;
    const headers = Object.fromEntries(this.headers.get());
    let body = null;
    let bytes = null;
    if (mode === "raw" || mode === "json") body = this.body.value;
    if (mode === "form" && !this.picked) body = new URLSearchParams(this.formFields.get()).toString();
    if (mode === "form" && this.picked) {
      const form = multipart(this.formFields.get(), { field: this.file.field.value.trim() || "file", ...this.picked });
      const name = Object.keys(headers).find((n) => n.toLowerCase() === "content-type") ?? "Content-Type";
      headers[name] = form.contentType; // its boundary is the body's own
      bytes = form.bytes;
    }
    if (mode === "file") bytes = this.picked?.bytes ?? new Uint8Array();
    return {
      method: this.method.value.trim().toUpperCase() || "GET",
      path,
      headers,
      body,
      ...(bytes && { body_base64: toBase64(bytes) }),
      follow_redirects: this.follow.checked,
    };
  }

  /** Shows a request (the switch to follow redirects stays as the visitor set it). */
  fill({ method, path, headers = {}, body = null, body_base64: bytes = null }) {
    this.curlNote.hidden = true;
    this.method.value = method;
    this.path.value = path;
    this.params.set(queryPairs(path));
    this.headers.set(Object.entries(headers));
    this.auth.read();
    const type = (this.headers.valueOf("Content-Type") ?? "").toLowerCase();
    this.pick(null, { setHeader: false });
    if (bytes !== null) {  // sent from a file: the same bytes, with the same headers
      this.setMode("file");
      this.pick({ name: "the body sent before", type, bytes: fromBase64(bytes) }, { setHeader: false });
    } else if (body === null || body === undefined) {
      this.setMode("none");
    } else if (type.includes("json")) {
      this.body.value = body;
      this.setMode("json");
    } else if (type.includes("x-www-form-urlencoded") && isFormEncoded(body)) {
      this.formFields.set([...new URLSearchParams(body)]);
      this.setMode("form");
    } else {  // curl -d "{}" says form-encoded too: keep such a body exactly as written
      this.body.value = body;
      this.setMode("raw");
    }
  }

  send(origin = null) {
    this.onSend(this.current(), origin);
  }

  /** The snippet's suggested requests, as one-click chips. */
  setSuggestions(requests) {
    this.chips.replaceChildren();
    for (const suggestion of requests) {
      const chip = document.createElement("button");
      chip.type = "button";
      chip.className = "chip";
      chip.dataset.testid = "suggested-request";
      chip.innerHTML = '<span class="method"></span> <span class="chip-path"></span><span class="chip-label"></span>';
      chip.querySelector(".method").textContent = suggestion.method;
      chip.querySelector(".chip-path").textContent = suggestion.path;
      chip.querySelector(".chip-label").textContent = suggestion.label ? ` · ${suggestion.label}` : "";
      const expect = suggestion.expect ?? {};
      chip.title = [suggestion.label, expect.status && `expect ${expect.status}`,
        expect.body_contains && `with “${expect.body_contains}” in the body`].filter(Boolean).join(" — ");
      chip.dataset.expected = chip.title;
      chip.addEventListener("click", () => {
        this.fill(suggestion);
        this.onSend(this.current(), { chip, expect });
      });
      this.chips.append(chip);
    }
    this.chips.hidden = !requests.length;
  }

  /** Marks a chip with whether its answer matched what the talk expects. */
  static judge(origin, response) {
    if (!origin?.chip) return;
    const { status, body_contains: contains } = origin.expect;
    const statusOk = !status || response.status === status;
    const bodyOk = !contains || response.body.includes(contains);
    origin.chip.dataset.result = statusOk && bodyOk ? "pass" : "fail";
    // Say what differed: often the cookie jar carries state from earlier requests.
    const why = [!statusOk && `got ${response.status}, the talk expects ${status}`,
      !bodyOk && `the body lacks “${contains}”`].filter(Boolean).join("; ");
    origin.chip.title = [origin.chip.dataset.expected ?? origin.chip.title, why
      && `Last time: ${why}. Cookies from earlier requests (see Cookies) can change the answer.`]
      .filter(Boolean).join("\n");
  }

  /** The app's routes, in the order Flask tries them. */
  setRoutes(routes = []) {
    this.routesList.replaceChildren();
    for (const route of routes) {
      const methods = route.methods.filter((m) => m !== "HEAD" && m !== "OPTIONS");
      const li = document.createElement("li");
      for (const method of methods.length ? methods : route.methods) {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "route";
        button.dataset.rule = route.rule;
        button.dataset.method = method;
        button.innerHTML = '<span class="method"></span> <code></code>';
        button.firstChild.textContent = method;
        button.lastChild.textContent = route.rule;
        button.title = `${route.endpoint}${route.arguments?.length ? ` (${route.arguments.join(", ")})` : ""}`;
        li.append(button);
      }
      if (route.view?.file && route.view.line) {
        const view = document.createElement("button");
        view.type = "button";
        view.className = "link view-link";
        view.dataset.file = route.view.file;
        view.dataset.line = route.view.line;
        view.textContent = `${route.view.name} · ${route.view.file.split("/").pop()}:${route.view.line}`;
        view.title = "Show the view function";
        li.append(view);
      }
      this.routesList.append(li);
    }
    if (!routes.length) this.routesList.innerHTML = '<li class="empty">Run the snippet to see its routes.</li>';
    this.counts.routes.textContent = routes.length || "";
  }

  /** Marks the route that answered the last request (its index in the list), or none. */
  markRoute(index) {
    [...this.routesList.children].forEach((li, i) => li.classList.toggle("answered", i === index));
  }

  /** Fills in a route; a rule's first <argument> is selected, ready to be typed over. */
  useRoute(rule, method) {
    this.fill({ method, path: rule, headers: Object.fromEntries(this.headers.get()) });
    this.path.focus();
    const start = rule.indexOf("<");
    if (start >= 0) this.path.setSelectionRange(start, rule.indexOf(">", start) + 1);
  }

  addHistory(entry) {
    this.history.push(entry);
    const index = this.history.length - 1;
    const { request, response, error } = entry;
    const li = document.createElement("li");
    li.className = "history-item";
    li.dataset.testid = "history-item";
    li.dataset.index = index;
    const status = response ? String(response.status) : "—";
    li.innerHTML = `<button type="button" class="show"><span class="status"></span>
      <span class="method"></span> <code class="path"></code><span class="meta"></span></button>
      <button type="button" class="resend icon" title="Send again" aria-label="Send again">↻</button>`;
    li.querySelector(".status").textContent = status;
    li.querySelector(".status").dataset.class = response ? `${status[0]}xx` : "error";
    li.querySelector(".method").textContent = request.method;
    li.querySelector(".path").textContent = request.path;
    li.querySelector(".meta").textContent = response ? ` ${Math.round(response.elapsed_ms)} ms` : ` ${error}`;
    this.historyList.prepend(li);
    this.updateCounts();
  }

  clearHistory() {
    this.history = [];
    this.historyList.replaceChildren();
    this.updateCounts();
  }
}


/** The query's name/value pairs as written ("a=1&b" gives [["a", "1"], ["b", ""]]); of the
 * escapes, only those withQuery writes (& # =) are read back. */
function queryPairs(path) {
  const query = path.split("#")[0].split("?").slice(1).join("?");
  const decode = (text) => text.replace(/%(26|23|3d)/gi, (escaped) => decodeURIComponent(escaped));
  return query.split("&").filter(Boolean).map((part) => {
    const at = part.indexOf("=");
    return at < 0 ? [decode(part), ""] : [decode(part.slice(0, at)), decode(part.slice(at + 1))];
  });
}

/** `path` with its query written from `pairs`: as typed, but for what would end a name or value
 * (& and #, = in a name); a parameter without a value is written without "=". */
function withQuery(path, pairs) {
  const hashAt = path.indexOf("#");
  const hash = hashAt < 0 ? "" : path.slice(hashAt);
  const base = (hashAt < 0 ? path : path.slice(0, hashAt)).split("?")[0];
  const encode = (text, isName) => text.replace(isName ? /[&#=]/g : /[&#]/g, encodeURIComponent);
  const query = pairs.map(([name, value]) => (value === "" ? encode(name, true)
    : `${encode(name, true)}=${encode(value, false)}`)).join("&");
  return base + (query ? `?${query}` : "") + hash;
}

/** A body that form fields give back unchanged (`a=1&b=2`), unlike `{}` or `a b`. */
function isFormEncoded(body) {
  return new URLSearchParams(body).toString() === body;
}

/** What a browser's address bar would send: spaces and non-ASCII percent-encoded, the rest
 *  (already encoded sequences included) as typed. */
function asRequestTarget(path) {
  return path.replace(/[^\x21-\x7e]/gu, (c) => encodeURIComponent(c));
}
