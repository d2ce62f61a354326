// "Inside Flask": why the app answered the way it did. For each exchange: the route map in the
// order Werkzeug tries it (the rule that answered highlighted, its view shown in the editor), a
// timeline of Flask's steps drawn beside the path the request took through Flask, the heads as
// they crossed the wire with "copy as curl", what the app saw of the request and held in g, the
// session cookie taken apart (and forged, to watch the app refuse it), and the TLS session.
// Everything comes from the exchange's route, trace, raw and tls fields (docs/api.md).
import { api, escapeHtml, highlight } from "./api.js";
import { toCurl } from "./curl.js";
import { el } from "./dom.js";
import { subtabs } from "./tabs.js";

const SVG = "http://www.w3.org/2000/svg";

// The stages a request can pass through, in Flask's order; each trace step belongs to one.
const STAGES = [
  { id: "in", label: "request in", steps: ["received"] },
  { id: "match", label: "URL map", steps: ["match"] },
  { id: "started", label: "request_started", steps: ["request_started"] },
  { id: "before", label: "before_request", steps: ["before_request"] },
  { id: "view", label: "view", steps: ["view"] },
  { id: "template", label: "templates", steps: ["template"] },
  { id: "exception", label: "exception", steps: ["exception"] },
  { id: "after", label: "after_request", steps: ["after_request"] },
  { id: "out", label: "response out", steps: ["response"] },
  { id: "teardown", label: "teardown", steps: ["teardown_request", "teardown_appcontext", "teardown"] },
];

const OUTCOME_TITLES = {
  matched: "Matched", redirect: "Redirected", method_not_allowed: "Method not allowed",
  not_found: "No rule matched",
};

function svg(tag, attributes = {}, text = null) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text !== null) node.textContent = text;
  return node;
}

function pairsTable(pairs, empty) {
  if (!pairs?.length) return el("p", { className: "empty" }, empty);
  const body = el("tbody");
  for (const [name, value] of pairs) body.append(el("tr", {}, el("th", {}, name), el("td", {}, value)));
  return el("table", { className: "headers-table" }, body);
}

function ms(value) {
  return value === null || value === undefined ? "?" : `${value < 1 ? value.toFixed(2) : value.toFixed(1)} ms`;
}

export class Inspector {
  /**
   * editor: the page's Editor, to show a view function; sandboxId(): the running sandbox;
   * appUrl(): its address through the host, or null; resend(): sends the last request again
   * (after a tamper).
   */
  constructor(root, { editor, sandboxId, appUrl, resend }) {
    this.root = root;
    this.editor = editor;
    this.sandboxId = sandboxId;
    this.appUrl = appUrl;
    this.resend = resend;
    this.routes = [];
    this.current = null;
    const $ = (id) => root.querySelector(`#${id}`);
    this.pages = {
      route: $("inspector-route"), trace: $("inspector-trace"), wire: $("inspector-wire"),
      seen: $("inspector-seen"), session: $("inspector-session"), tls: $("inspector-tls"),
    };
    this.tabs = subtabs(root.querySelector(".subtabs"), $("inspector-pages"));
    // A head is highlighted when it comes into sight, not for every exchange (paintHead).
    this.sight = new IntersectionObserver((entries) => {
      for (const entry of entries) if (entry.isIntersecting) this.paintHead(entry.target);
    });
    this.clear();
  }

  clear() {
    this.current = null;
    this.startError = null;
    this.renderRoutes();
    for (const name of ["trace", "wire", "seen", "session"]) {
      this.pages[name].replaceChildren(el("p", { className: "empty" }, "Send a request to see inside Flask."));
    }
    this.renderTls();
  }

  /** The sandbox changed: its routes (in match order) and a refused certificate's explanation. */
  setSandbox(info) {
    this.routes = info.routes ?? [];
    // Kept until the next run: the log's state events carry the error without the explanation.
    if (info.state === "starting") {
      this.startError = null;
      this.editor.clearViewMark(); // the view that answered belongs to the code that was running
    } else if (info.error?.explanation) this.startError = info.error;
    this.renderRoutes();
    this.renderTls();
  }

  show(exchange) {
    this.current = exchange;
    this.root.querySelector("#inspector-pages").scrollTop = 0;
    this.renderRoutes();
    this.renderTrace();
    this.renderWire();
    this.renderSeen();
    this.renderSession();
    this.renderTls();
    this.showView();
  }

  // -- the route map -------------------------------------------------------------------------

  renderRoutes() {
    const page = this.pages.route;
    const route = this.current?.route;
    page.replaceChildren();
    if (route) {
      const title = OUTCOME_TITLES[route.outcome] ?? route.outcome;
      const outcome = el("p", { className: "route-outcome" },
        el("strong", {}, route.status ? `${route.status} · ${title}` : title), ": ", route.reason);
      outcome.dataset.outcome = route.outcome;
      if (route.view_args && Object.keys(route.view_args).length) {
        outcome.append(el("br"), "view arguments: ", el("code", {},
          Object.entries(route.view_args).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ")));
      }
      if (route.allowed) outcome.append(el("br"), "allowed: ", el("code", {}, route.allowed.join(", ")));
      page.append(outcome);
    }
    if (!this.routes.length) {
      page.append(el("p", { className: "empty" }, "Run the app to see its routes."));
      return;
    }
    page.append(el("p", { className: "note" }, "The app's URL rules in the order Werkzeug tries "
      + "them: static segments before variables, then int and float, string, path; the first "
      + "rule that matches the path and the method answers."));
    const body = el("tbody");
    this.routes.forEach((rule, index) => {
      const row = el("tr", {},
        el("td", { className: "index" }, String(index + 1)),
        el("td", {}, el("code", {}, rule.rule)),
        el("td", {}, rule.methods.filter((m) => m !== "HEAD" && m !== "OPTIONS").join(" ")),
        el("td", {}, this.viewLink(rule)),
        el("td", { title: "strict_slashes: the path without its trailing slash is redirected (308)" },
          rule.rule.length > 1 && rule.rule.endsWith("/") && rule.strict_slashes ? "adds /" : ""));
      row.dataset.testid = "route-row";
      if (route?.rule?.index === index) {
        row.dataset.outcome = route.outcome;
        requestAnimationFrame(() => row.scrollIntoView({ block: "nearest" }));
      }
      if (route?.near?.index === index) row.dataset.outcome = "near";
      body.append(row);
    });
    const table = el("table", { className: "route-map" },
      el("thead", {}, el("tr", {}, ...["#", "rule", "methods", "view", "slash"].map((h) => el("th", {}, h)))),
      body);
    table.dataset.testid = "route-map";
    page.append(table);
  }

  viewLink(rule) {
    const view = rule.view;
    if (!view) return rule.endpoint;
    if (!view.file) return el("span", { title: view.name }, rule.endpoint);
    const link = el("button", { type: "button", className: "link", title: `${view.file}:${view.line}` },
      rule.endpoint);
    link.addEventListener("click", () => this.editor.reveal(this.editor.pathFor(view.file), view.line));
    return link;
  }

  /** Marks the answering view function in the editor, without taking the visitor away from the
   * file they are on: a band on its line, and a mark on its file's tab. */
  showView() {
    const index = this.current?.route?.rule?.index;
    const view = index === undefined || index === null ? null : this.routes[index]?.view;
    if (view?.file) this.editor.markView(view.file, view.line, view.name);
    else this.editor.clearViewMark();
  }

  // -- the trace ------------------------------------------------------------------------------

  renderTrace() {
    const page = this.pages.trace;
    const trace = this.current?.trace;
    if (!trace) {
      page.replaceChildren(el("p", { className: "empty" }, "The app did not report this request."));
      return;
    }
    page.replaceChildren(this.drawing(trace), el("p", { className: "note" },
      `Flask took ${ms(trace.total_ms)} from receiving the request to the end of teardown. `
      + "Each step was recorded inside the app with Flask's signals and by wrapping its hooks; "
      + "the request and the response are untouched."));
  }

  /** The path through Flask (boxes on the left) and each step's time (bars on the right). */
  drawing(trace) {
    const row = 26;
    const boxWidth = 130;
    const left = boxWidth + 30;
    const width = 640;
    const span = Math.max(trace.total_ms, 0.001);
    const x = (t) => left + ((width - left - 150) * t) / span;
    const taken = new Set(trace.steps.map((s) => STAGES.find((st) => st.steps.includes(s.step))?.id));
    const failed = new Set(trace.steps.filter((s) => s.error)
      .map((s) => STAGES.find((st) => st.steps.includes(s.step))?.id));
    const height = STAGES.length * row + 24;
    const drawing = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "trace-drawing",
      role: "img", "aria-label": "The request's path through Flask, and the time of each step" });
    drawing.append(svg("text", { x: left, y: 12, class: "axis" }, "0 ms"),
      svg("text", { x: x(span), y: 12, class: "axis", "text-anchor": "end" }, ms(trace.total_ms)));
    let previous = null;
    STAGES.forEach((stage, i) => {
      const y = 20 + i * row;
      const state = failed.has(stage.id) ? "error" : taken.has(stage.id) ? "taken" : "skipped";
      const group = svg("g", { class: `stage ${state}`, "data-stage": stage.id });
      group.append(svg("rect", { x: 4, y, width: boxWidth, height: row - 8, rx: 4 }),
        svg("text", { x: 4 + boxWidth / 2, y: y + row / 2, "text-anchor": "middle" }, stage.label));
      if (state !== "skipped" && previous !== null) {
        const from = 20 + previous * row + row - 8;
        group.append(svg("line", { x1: 4 + boxWidth / 2, y1: from, x2: 4 + boxWidth / 2, y2: y,
          class: "arrow", "marker-end": "url(#trace-arrow)" }));
      }
      if (state !== "skipped") previous = i;
      for (const step of trace.steps.filter((s) => stage.steps.includes(s.step))) {
        const start = x(step.at_ms);
        const end = step.ms ? Math.max(x(step.at_ms + step.ms), start + 2) : start;
        const label = [step.name ?? step.endpoint ?? step.outcome ?? (step.status && String(step.status)),
          step.ms ? ms(step.ms) : null, step.error ? step.error.type : null].filter(Boolean).join(" · ");
        const title = svg("title", {}, `${step.step} at ${ms(step.at_ms)}${step.ms ? `, ${ms(step.ms)}` : ""}`
          + (step.error ? `: ${step.error.type}: ${step.error.message}` : ""));
        const mark = step.ms
          ? svg("rect", { x: start, y: y + 3, width: end - start, height: row - 14, class: "bar" })
          : svg("circle", { cx: start, cy: y + (row - 8) / 2, r: 3.5, class: "instant" });
        mark.append(title);
        group.append(mark, svg("text", { x: end + 6, y: y + row / 2, class: "step-label" }, label));
      }
      drawing.append(group);
    });
    const defs = svg("defs");
    const marker = svg("marker", { id: "trace-arrow", viewBox: "0 0 6 6", refX: 5, refY: 3,
      markerWidth: 6, markerHeight: 6, orient: "auto" });
    marker.append(svg("path", { d: "M0,0 L6,3 L0,6 z" }));
    defs.append(marker);
    drawing.prepend(defs);
    return drawing;
  }

  // -- the wire -------------------------------------------------------------------------------

  renderWire() {
    const raw = this.current?.raw;
    const page = this.pages.wire;
    for (const pre of page.querySelectorAll("pre.wire")) this.sight.unobserve(pre);
    if (!raw) {
      page.replaceChildren(el("p", { className: "empty" }, "No exchange yet."));
      return;
    }
    const head = (text, html) => {
      const pre = el("pre", { className: "hl wire", tabIndex: 0 }, text.trimEnd());
      if (html) pre.innerHTML = html.trimEnd(); // Pygments HTML from the host: spans around escaped text
      else this.sight.observe(pre);
      return pre;
    };
    const { body: text, body_base64: bytes } = this.current.request ?? {};
    const body = bytes ? `(${atob(bytes).length} bytes from a file, sent as they are)` : text;
    // The request as the visitor wrote it, to the app's address through the host: it works from
    // any machine that reaches the playground (the app itself listens on the server's loopback).
    const url = this.appUrl();
    const command = url ? toCurl(this.current.request, url) : null;
    const copy = el("button", { type: "button", className: "small", hidden: !command }, "Copy as curl");
    copy.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(command);
        copy.textContent = "Copied";
      } catch {
        copy.textContent = "Select the command below to copy it";
      }
    });
    page.replaceChildren(
      el("h4", {}, "Request head, as the proxy sent it"), head(raw.request, raw.request_html),
      ...(body ? [el("h4", {}, "Request body"), el("pre", { className: "plain" }, body)] : []),
      el("h4", {}, "Response head, as it came back"), head(raw.response, raw.response_html),
      el("div", { className: "curl-bar" }, copy,
        el("span", { className: "note" }, command ? "sends this request to your app from any machine that reaches the playground"
          : "the app is not running now: run it to get a curl command for it")),
      ...(command ? [el("pre", { className: "plain curl", "data-testid": "inspector-curl" }, command)] : []));
  }

  /** Colours a head once it is in sight (exchanges whose Wire page nobody opens cost nothing);
   * it stays plain text if the highlighter cannot. */
  paintHead(pre) {
    this.sight.unobserve(pre);
    const text = pre.textContent;
    highlight(text, "http").then((html) => {
      if (pre.isConnected) pre.innerHTML = html || escapeHtml(text);
    });
  }

  // -- what the app saw -----------------------------------------------------------------------

  renderSeen() {
    const trace = this.current?.trace;
    const page = this.pages.seen;
    if (!trace?.request) {
      page.replaceChildren(el("p", { className: "empty" }, "The app did not report this request."));
      return;
    }
    const seen = trace.request;
    const unread = "The app never read the body, so neither did we (reading it is the app's business).";
    page.replaceChildren(
      el("h4", {}, "request.args"), pairsTable(seen.args, "(empty)"),
      el("h4", {}, "request.form"), seen.form === null ? el("p", { className: "empty" }, unread)
        : pairsTable(seen.form, "(empty)"),
      ...(seen.files?.length ? [el("h4", {}, "request.files"), pairsTable(seen.files, "")] : []),
      el("h4", {}, "request.json"), el("pre", { className: "plain" }, seen.json ?? "None"),
      el("h4", {}, "request.cookies"), pairsTable(seen.cookies, "(none)"),
      el("h4", {}, "request.headers"), pairsTable(seen.headers, "(none)"),
      el("h4", {}, "g at the end of the request"),
      pairsTable(Object.entries(trace.g ?? {}), "g held nothing: it starts empty on every request."));
  }

  // -- the session ----------------------------------------------------------------------------

  renderSession() {
    const page = this.pages.session;
    const cookies = (this.current?.cookies ?? []).filter((c) => c.flask_session);
    const check = this.current?.trace?.session;
    page.replaceChildren(el("p", { className: "note strong" }, "A Flask session is signed, not "
      + "encrypted: anyone who holds the cookie can read what is in it. The signature only lets "
      + "the app notice a cookie that was changed without its SECRET_KEY."));
    if (check) {
      const verdict = el("p", { className: `session-check ${check.valid ? "ok" : "refused"}` },
        el("strong", {}, check.valid ? "The app accepted the session cookie it was sent"
          : "The app refused the session cookie it was sent"), `: ${check.reason}.`);
      page.append(verdict);
    }
    if (!cookies.length) {
      page.append(el("p", { className: "empty" }, "No Flask session cookie in the jar yet."));
      return;
    }
    for (const cookie of cookies) page.append(this.sessionCard(cookie));
  }

  sessionCard(cookie) {
    const session = cookie.flask_session;
    const parts = cookie.value.replace(/^\./, "").split(".");
    const names = ["payload", "timestamp", "signature"];
    const value = el("code", { className: "session-parts" },
      ...(session.compressed ? [el("span", { title: "zlib-compressed" }, ".")] : []),
      ...parts.flatMap((part, i) => [i ? "." : null, el("span", { className: `part ${names[i]}`, title: names[i] }, part)])
        .filter(Boolean));
    const editor = el("textarea", { className: "session-payload", rows: 4, spellcheck: false,
      "aria-label": `The payload of ${cookie.name}, to change and send`,
      value: JSON.stringify(session.payload, null, 2) });
    const tamper = el("button", { type: "button", className: "small" }, "Tamper and send again");
    const status = el("span", { className: "note" });
    tamper.addEventListener("click", async () => {
      let payload;
      try {
        payload = JSON.parse(editor.value);
      } catch {
        status.textContent = "The payload must be JSON.";
        return;
      }
      try {
        await api("POST", `/api/sandboxes/${this.sandboxId()}/cookies/${encodeURIComponent(cookie.name)}/tamper`,
          { payload });
      } catch (error) {
        status.textContent = error.message;
        return;
      }
      this.resend();
    });
    return el("div", { className: "session-card" },
      el("h4", {}, `Cookie ${cookie.name}`), value,
      el("dl", {},
        el("dt", {}, "payload (base64, then JSON)"), el("dd", {}, el("pre", { className: "plain" },
          JSON.stringify(session.payload, null, 2))),
        el("dt", {}, "timestamp"), el("dd", {}, session.signed_at ?? String(session.timestamp)),
        el("dt", {}, "signature"), el("dd", {}, el("code", {}, session.signature),
          " (HMAC of payload and timestamp with the app's key)")),
      el("p", { className: "note" }, "Edit the payload and send: the cookie keeps its old "
        + "signature, the app finds it does not match and starts a new, empty session."),
      editor, el("div", {}, tamper, " ", status));
  }

  // -- TLS ------------------------------------------------------------------------------------

  renderTls() {
    const page = this.pages.tls;
    page.replaceChildren();
    if (this.startError) {
      page.append(el("p", { className: "tls-refused" }, el("strong", {}, "The certificate was refused: "),
        this.startError.explanation));
      for (const cert of this.startError.certificates ?? []) page.append(this.certificate(cert, cert.file));
    }
    const tls = this.current?.tls;
    if (tls) {
      page.append(pairsTable([["protocol", tls.protocol],
        ["cipher", `${tls.cipher.name} (${tls.cipher.bits}-bit)`]], ""));
      if (tls.certificate) page.append(this.certificate(tls.certificate, "The app's certificate"));
    } else if (!this.startError) {
      page.append(el("p", { className: "empty" }, this.current
        ? "This app speaks plain HTTP: nothing is encrypted. Pass ssl_context to app.run() for HTTPS."
        : "Send a request to an https app to see its TLS session."));
    }
  }

  certificate(cert, heading) {
    return el("div", { className: "certificate" }, el("h4", {}, heading), pairsTable([
      ["subject", cert.subject], ["issuer", cert.self_signed ? `${cert.issuer} (self-signed)` : cert.issuer],
      ["valid", `${cert.not_before} → ${cert.not_after}${cert.valid_now ? "" : " (not valid now)"}`],
      ["key", `${cert.key_type ?? "?"}${cert.key_size ? `, ${cert.key_size} bits` : ""}`],
      ["signature", cert.signature_hash ?? "?"], ["SHA-256", cert.sha256],
    ], ""));
  }
}
