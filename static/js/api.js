// The host's JSON API (docs/api.md). Errors come back as {"error": {code, message, ...}}
// and are thrown as ApiError with the message meant for the visitor and what the page can act
// on: `details` (the whole error object: a refusal's `sandboxes`, a format error's `line`) and
// `retryAfter` (seconds, from `retry_after` or the Retry-After header; null when not said).
export class ApiError extends Error {
  constructor(status, code, message, details = {}, retryAfter = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
    this.retryAfter = retryAfter;
  }
}

export async function api(method, url, body) {
  const options = { method, headers: { Accept: "application/json" } };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, options);
  } catch {
    throw new ApiError(0, "offline", "The playground server cannot be reached.");
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = data?.error ?? {};
    const retryAfter = Number(error.retry_after ?? response.headers.get("Retry-After"));
    throw new ApiError(response.status, error.code ?? "http_error",
      error.message ?? `The server answered ${response.status}.`, error,
      Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : null);
  }
  return data;
}

// Bigger texts are shown plain: highlighting them would cost more than it helps.
const MAX_HIGHLIGHT_CHARS = 200_000;

export function escapeHtml(text) {
  return text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
}

/** Pygments HTML for `code` (spans, one line per input line); plain text on failure. */
export async function highlight(code, language) {
  if (code.length > MAX_HIGHLIGHT_CHARS) return escapeHtml(code);
  try {
    const { html } = await api("POST", "/api/highlight", { code, language });
    return html;
  } catch {
    return escapeHtml(code);
  }
}

/** Paints highlighted `code` into `element` (plain first, colours when they arrive). */
export async function paintHighlighted(element, code, language) {
  element.textContent = code;
  const html = await highlight(code, language);
  if (element.textContent === code) element.innerHTML = html;
}

/** The highlighter's language for a file name. */
export function languageFor(path) {
  const ext = path.split(".").pop().toLowerCase();
  return { py: "python", html: "html+jinja", htm: "html+jinja", jinja: "html+jinja", j2: "html+jinja",
    css: "css", js: "javascript", json: "json" }[ext] ?? "text";
}
