// The request panel: method, path, headers, body, the snippet's suggested
// requests, the app's routes and this session's history. A body may hold a file from disk: in a
// multipart form, or as the whole body ("file"); bytes go to the host as body_base64.
import { fromBase64, readFile, toBase64 } from "./binary.js";
import { humanSize } from "./response.js";
import { multipart } from "./multipart.js";
import { subtabs } from "./tabs.js";

const CONTENT_TYPES = { json: "application/json", form: "application/x-www-form-urlencoded" };
const MULTIPART = "multipart/form-data"; // a form with a file; the boundary is added as it is sent

/** Editable name/value rows with an enable box; there is always one empty row to type in. */
class KeyValueRows {
  constructor(container, { namePlaceholder, valuePlaceholder, onChange }) {
    this.container = container;
    this.placeholders = [namePlaceholder, valuePlaceholder];
    this.onChange = onChange;
    container.addEventListener("input", () => {
      this.keepOneEmptyRow();
      onChange();
    });
    container.addEventListener("click", (event) => {
      if (!event.target.closest(".remove")) return;
      event.target.closest(".kv-row").remove();
      this.keepOneEmptyRow();
      onChange();
    });
    this.set([]);
  }

  row(name = "", value = "", enabled = true) {
    const row = document.createElement("div");
    row.className = "kv-row";
    row.innerHTML = `<input type="checkbox" class="enabled" aria-label="Send this one">
      <input class="name" spellcheck="false"><input class="value" spellcheck="false">
      <button type="button" class="remove icon" aria-label="Remove">×</button>`;
    const [box, nameInput, valueInput] = row.querySelectorAll("input");
    box.checked = enabled;
    [nameInput.value, valueInput.value] = [name, value];
    [nameInput.placeholder, valueInput.placeholder] = this.placeholders;
    return row;
  }

  rows() {
    return [...this.container.querySelectorAll(".kv-row")];
  }

  keepOneEmptyRow() {
    const isEmpty = (r) => !r.querySelector(".name").value && !r.querySelector(".value").value;
    const empty = this.rows().filter(isEmpty);
    for (const row of empty.slice(0, -1)) if (!row.contains(document.activeElement)) row.remove();
    if (!this.rows().some(isEmpty)) this.container.append(this.row());
  }

  /** [[name, value]...] of the enabled rows with a name. */
  get() {
    return this.rows()
      .filter((r) => r.querySelector(".enabled").checked && r.querySelector(".name").value.trim())
      .map((r) => [r.querySelector(".name").value.trim(), r.querySelector(".value").value]);
  }

  set(pairs) {
    this.container.replaceChildren(...pairs.map(([n, v]) => this.row(n, v)));
    this.keepOneEmptyRow();
  }

  /** Sets (or with value null removes) a row by name, case-insensitively. */
  put(name, value) {
    const row = this.rows().find((r) => r.querySelector(".name").value.trim().toLowerCase() === name.toLowerCase());
    if (value === null) row?.remove();
    else if (row) row.querySelector(".value").value = value;
    else this.container.prepend(this.row(name, value));
    this.keepOneEmptyRow();
  }

  valueOf(name) {
    return this.get().find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1] ?? null;
  }
}

export class RequestPanel {
  /**
   * onSend(request, origin) sends; origin is a chip or null. onShow(entry) shows an old
   * exchange; onGoto(file, line) shows a view's code.
   */
  constructor(root, { onSend, onShow, onGoto }) {
    this.root = root;
    this.onSend = onSend;
    this.onShow = onShow;
    const $ = (id) => root.querySelector(`#${id}`);
    this.method = $("request-method");
    this.path = $("request-path");
    this.body = $("request-body");
    this.bodyHint = $("body-hint");
    this.chips = $("suggested-requests");
    this.routesList = $("routes-list");
    this.historyList = $("history-list");
    this.counts = { headers: $("headers-count"), routes: $("routes-count"), history: $("history-count"),
      body: $("body-mode-label") };
    this.history = [];
    this.tabs = subtabs(root.querySelector(".subtabs"), root.querySelector(".subtab-pages"));

    this.headers = new KeyValueRows($("request-headers"), {
      namePlaceholder: "Header", valuePlaceholder: "value", onChange: () => this.updateCounts(),
    });
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
    this.counts.headers.textContent = this.headers.get().length || "";
    this.counts.history.textContent = this.history.length || "";
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
    };
  }

  fill({ method, path, headers = {}, body = null, body_base64: bytes = null }) {
    this.method.value = method;
    this.path.value = path;
    this.headers.set(Object.entries(headers));
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


/** A body that form fields give back unchanged (`a=1&b=2`), unlike `{}` or `a b`. */
function isFormEncoded(body) {
  return new URLSearchParams(body).toString() === body;
}

/** What a browser's address bar would send: spaces and non-ASCII percent-encoded, the rest
 *  (already encoded sequences included) as typed. */
function asRequestTarget(path) {
  return path.replace(/[^\x21-\x7e]/gu, (c) => encodeURIComponent(c));
}
