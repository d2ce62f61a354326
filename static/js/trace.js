// What happened inside Flask for one exchange: which rule answered and why, the
// steps Flask took with their timings, the request as the app saw it, g and the
// session; and the HTTP heads as they crossed the wire, with a curl command.
import { escapeHtml } from "./api.js";

function node(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

function section(title) {
  const box = node("section", "trace-section");
  box.append(node("h4", null, title));
  return box;
}

/** A two-column table of [name, value] pairs, or null when there are none. */
function pairs(rows) {
  if (!rows?.length) return null;
  const table = node("table", "pairs");
  for (const [name, value] of rows) {
    const row = table.insertRow();
    row.insertCell().textContent = name;
    row.insertCell().textContent = typeof value === "string" ? value : JSON.stringify(value);
  }
  return table;
}

const STEP_DETAILS = {
  match: (s) => s.outcome,
  before_request: (s) => s.name + (s.blueprint ? ` (blueprint ${s.blueprint})` : ""),
  view: (s) => `${s.endpoint}()`,
  template: (s) => `${s.name}  with ${s.context?.length ? s.context.join(", ") : "no arguments"}`
    + (s.injected?.length ? `  (+ ${s.injected.join(", ")} from Flask)` : ""),
  after_request: (s) => s.name ?? "",
  exception: (s) => (s.error ? `${s.error.type}: ${s.error.message}` : ""),
  response: (s) => `${s.status} ${s.mimetype ?? ""}`,
  teardown_request: (s) => s.name ?? "",
  teardown_appcontext: (s) => s.name ?? "",
};

function formatMs(ms) {
  if (ms === null || ms === undefined) return "never ended";
  return ms ? `${ms < 1 ? ms.toFixed(2) : ms.toFixed(1)} ms` : "";
}

/** One line about the rule that answered, for the status line. */
export function routeSummary(route) {
  if (!route) return null;
  const line = node("span", `route-summary ${route.outcome}`, route.reason);
  line.title = "How Flask's URL map chose what answers this request";
  return line;
}

/**
 * Fills `container` with the trace of `response`. `routes` are the sandbox's routes
 * (for the view's file and line); onGoto(file, line) shows a line in the editor.
 */
export function renderTrace(container, response, { routes = [], onGoto }) {
  container.replaceChildren();
  const { route, trace } = response;
  if (!route && !trace) {
    container.append(node("p", "empty", "The app did not report a trace for this request."));
    return;
  }
  if (route) {
    const box = section("Routing");
    box.append(node("p", `route-summary ${route.outcome}`, route.reason));
    const rule = route.rule ?? route.near;
    const view = rule ? routes[rule.index]?.view : null;
    if (view?.file && view.line) {
      const link = node("button", "link", `${view.name} in ${view.file}, line ${view.line}`);
      link.type = "button";
      link.addEventListener("click", () => onGoto(view.file, view.line));
      box.append(link);
    }
    const extra = pairs(Object.entries(route.view_args ?? {}));
    if (extra) box.append(node("p", "meta", "view arguments:"), extra);
    container.append(box);
  }
  if (trace) {
    const steps = section(`Inside Flask (${formatMs(trace.total_ms)})`);
    const table = node("table", "steps");
    const total = trace.total_ms || 1;
    for (const step of trace.steps) {
      const row = table.insertRow();
      row.className = step.error ? "failed" : "";
      row.insertCell().textContent = `${step.at_ms.toFixed(2)} ms`;
      row.insertCell().textContent = step.step;
      const details = row.insertCell();
      details.textContent = (STEP_DETAILS[step.step]?.(step) ?? "")
        + (step.error && step.step !== "exception" ? `  raised ${step.error.type}: ${step.error.message}` : "");
      const timing = row.insertCell();
      timing.className = "timing";
      const bar = node("span", "bar");
      bar.style.marginLeft = `${(100 * step.at_ms) / total}%`;
      bar.style.width = `${Math.max(0.5, (100 * (step.ms ?? 0)) / total)}%`;
      timing.append(bar, node("span", "ms", formatMs(step.ms)));
    }
    steps.append(table);
    container.append(steps);

    const seen = section("The request as the app saw it");
    const { request } = trace;
    for (const [label, rows] of [["args", request.args], ["form", request.form], ["files", request.files],
      ["cookies", request.cookies], ["headers", request.headers]]) {
      const table = pairs(rows);
      if (table) seen.append(node("p", "meta", `request.${label}`), table);
    }
    if (request.json !== null && request.json !== undefined) {
      seen.append(node("p", "meta", "request.json"), node("pre", null, JSON.stringify(request.json, null, 2)));
    }
    if (!request.body_read) seen.append(node("p", "meta", "The app never read the request body."));
    container.append(seen);

    const g = pairs(Object.entries(trace.g ?? {}));
    if (g) {
      const box = section("g at the end of the request");
      box.append(g);
      container.append(box);
    }
    if (trace.session) {
      const box = section("Session cookie");
      const { valid, reason } = trace.session;
      box.append(node("p", valid ? "ok" : "error-text",
        `${valid ? "Signature checked: valid." : "Refused."}${reason ? ` ${reason}` : ""}`));
      container.append(box);
    }
  }
}

/** Fills `container` with the heads as sent and received, and a curl command. */
export function renderWire(container, response) {
  container.replaceChildren();
  const { raw, tls } = response;
  if (!raw) {
    container.append(node("p", "empty", "No raw HTTP for this exchange."));
    return;
  }
  for (const [title, html, text] of [["Request, as sent", raw.request_html, raw.request],
    ["Response head, as received", raw.response_html, raw.response]]) {
    const box = section(title);
    const pre = node("pre", "hl wire");
    pre.innerHTML = html ?? escapeHtml(text ?? "");
    box.append(pre);
    container.append(box);
  }
  if (raw.curl) {
    const box = section("The same request with curl");
    const pre = node("pre", "curl", raw.curl);
    const copy = node("button", "small", "Copy");
    copy.type = "button";
    copy.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(raw.curl);
        copy.textContent = "Copied";
      } catch {
        // No clipboard outside a secure context: select the text for Ctrl+C instead.
        getSelection().selectAllChildren(pre);
      }
    });
    box.append(copy, pre);
    container.append(box);
  }
  if (tls) {
    const box = section("TLS");
    const cert = tls.certificate ?? {};
    box.append(pairs([
      ["protocol", tls.protocol],
      ["cipher", `${tls.cipher?.name} (${tls.cipher?.bits} bits)`],
      ["subject", cert.subject], ["issuer", cert.issuer],
      ["self-signed", cert.self_signed ? "yes: browsers warn about it" : "no"],
      ["valid", `${cert.not_before} to ${cert.not_after}${cert.valid_now ? "" : " (not valid now)"}`],
      ["key", `${cert.key_type} ${cert.key_size ?? ""}`], ["signature hash", cert.signature_hash],
      ["sha256", cert.sha256],
    ].filter(([, value]) => value !== undefined && value !== null)));
    container.append(box);
  }
}
