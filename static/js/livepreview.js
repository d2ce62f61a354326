// Pages the preview loads live from the app's address (the sandbox's `url`, gateway.py) rather
// than from the exchange's body: pages of an app in debug mode that work only with their own
// scripts talking back to the app. Werkzeug's debugger (its consoles run code inside the app's
// sandbox) and Flask-DebugToolbar (its panels). Any other answer is previewed from its body.
//
// The frame is sandboxed without allow-same-origin, so the page runs in an opaque origin of its
// own, as the gateway's `Content-Security-Policy: sandbox` makes it anyway: it cannot reach this
// page, its storage or the host's cookie. The gateway gives such a page an in-memory
// document.cookie, which an opaque origin lacks and the toolbar reads.
import { el } from "./dom.js";

export const LIVE_SANDBOX = "allow-scripts allow-forms allow-popups allow-modals";

// What marks a page that needs its own scripts and the app behind it.
const LIVE_PAGES = [
  { name: "Werkzeug's debugger", test: (r) => r.status === 500 && /\/\/ Werkzeug Debugger<\/title>/.test(r.body) },
  { name: "Flask-DebugToolbar", test: (r) => /<div id="flDebug"/.test(r.body) },
];

/**
 * The address to load `response` (the answer to `request`) from, live, and what it is; null
 * when it is previewed from its body: not such a page, not a GET (loading it again must not
 * repeat what a form did), or no address (a follower's view, an app that stopped).
 */
export function liveAddress(response, request, appUrl) {
  const kind = LIVE_PAGES.find((page) => page.test(response));
  const path = response.request?.path ?? request.path; // after the redirects followed
  const method = response.request?.method ?? request.method;
  if (!kind || method !== "GET" || !appUrl || !path.startsWith("/")) return null;
  return { url: appUrl.replace(/\/$/, "") + path, name: kind.name };
}

/** The live frame and a line saying where it comes from. `zoom`: the page's text size. */
export function liveFrame({ url, name }, { testid, zoom }) {
  const frame = el("iframe", { title: `${name}, live from the app (sandboxed)`, "data-testid": testid, src: url });
  frame.setAttribute("sandbox", LIVE_SANDBOX);
  frame.style.zoom = zoom;
  const open = el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, "open it in a tab");
  const note = el("p", { className: "live-note", "data-testid": `${testid}-live` },
    `${name}, live from your app's address (asked for once more, so its scripts can talk to the app): `, open, ".");
  return { frame, note };
}
