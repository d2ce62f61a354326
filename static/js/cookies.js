// The sandbox's cookie jar: what the app set, the Flask session decoded, and
// editing or deleting a cookie before the next request.
import { api, paintHighlighted } from "./api.js";
import { el } from "./dom.js";

function expiry(expires) {
  if (expires === null || expires === undefined) return "session";
  return new Date(expires * 1000).toLocaleString();
}

function isDeletion(cookie) {
  return cookie.expires !== null && cookie.expires !== undefined && cookie.expires * 1000 <= Date.now();
}

export class CookieJar {
  /** sandboxId() gives the sandbox whose jar this is; onCount(n) after each change. */
  constructor(root, { sandboxId, onCount }) {
    this.root = root;
    this.sandboxId = sandboxId;
    this.onCount = onCount;
  }

  /** Shows the jar after an exchange, with what that response set or deleted. */
  show(cookies, setCookies = []) {
    this.root.replaceChildren();
    if (setCookies.length) this.root.append(this.setByResponse(setCookies));
    this.root.append(this.jarTable(cookies));
    for (const cookie of cookies) {
      if (cookie.flask_session) this.root.append(this.session(cookie));
    }
    this.onCount(cookies.length);
  }

  async refresh() {
    const id = this.sandboxId();
    if (!id) return;
    try {
      const { cookies } = await api("GET", `/api/sandboxes/${id}/cookies`);
      this.show(cookies);
    } catch (error) {
      this.message(error.message);
    }
  }

  async change(method, suffix = "", body) {
    const id = this.sandboxId();
    if (!id) return;
    try {
      await api(method, `/api/sandboxes/${id}/cookies${suffix}`, body);
    } catch (error) {
      this.message(error.message);
      return;
    }
    await this.refresh();
  }

  message(text) {
    this.root.prepend(el("p", { className: "error-text" }, text));
  }

  setByResponse(setCookies) {
    return el("div", { className: "set-cookies" }, el("h4", {}, "This response"), ...setCookies.map((cookie) => {
      const deleted = isDeletion(cookie);
      return el("div", { className: deleted ? "deleted" : "set" },
        deleted ? `deleted ${cookie.name}` : `set ${cookie.name} = ${cookie.value}`);
    }));
  }

  jarTable(cookies) {
    const rows = cookies.map((cookie) => {
      const value = el("input", { value: cookie.value, spellcheck: false, "aria-label": `Value of ${cookie.name}`,
        title: "Edit and press Enter: the next request sends this value" });
      value.addEventListener("keydown", (event) => {
        if (event.key === "Enter") value.blur();
      });
      value.addEventListener("change", () =>
        this.change("PUT", "", { name: cookie.name, value: value.value, path: cookie.path }));
      const remove = el("button", { type: "button", className: "icon", title: `Delete ${cookie.name}`,
        "aria-label": `Delete ${cookie.name}` }, "×");
      remove.addEventListener("click", () => this.change("DELETE", `/${encodeURIComponent(cookie.name)}`));
      const flags = [cookie.secure && "Secure", cookie.httponly && "HttpOnly",
        cookie.samesite && `SameSite=${cookie.samesite}`].filter(Boolean);
      return el("tr", {}, el("td", { className: "name" }, cookie.name), el("td", {}, value),
        el("td", {}, cookie.path ?? "/"), el("td", {}, expiry(cookie.expires)),
        el("td", { className: "flags" }, flags.join(" ")), el("td", {}, remove));
    });
    const name = el("input", { placeholder: "new cookie", "aria-label": "Name of a new cookie" });
    const value = el("input", { placeholder: "value", "aria-label": "Value of the new cookie" });
    const add = el("button", { type: "button", className: "small" }, "Add");
    add.addEventListener("click", () => {
      if (name.value.trim()) this.change("PUT", "", { name: name.value.trim(), value: value.value, path: "/" });
    });
    const clear = cookies.length ? el("button", { type: "button", className: "small" }, "Delete all") : null;
    clear?.addEventListener("click", () => this.change("DELETE"));
    return el("table", { className: "jar" },
      el("thead", {}, el("tr", {}, ...["Name", "Value", "Path", "Expires", "Flags"].map((h) => el("th", {}, h)),
        el("th", {}, el("span", { className: "visually-hidden" }, "Delete")))),
      el("tbody", {}, ...rows, el("tr", { className: "add" }, el("td", {}, name), el("td", {}, value),
        el("td", { colSpan: 4 }, add, clear && " ", clear))));
  }

  session(cookie) {
    const { payload, compressed, timestamp, signature } = cookie.flask_session;
    const pre = el("pre", { className: "hl" });
    paintHighlighted(pre, JSON.stringify(payload, null, 2), "json");
    return el("div", { className: "flask-session" },
      el("h4", {}, `Flask session in “${cookie.name}” (signed, not encrypted: anyone can read it)`), pre,
      el("p", { className: "meta" }, [compressed && "zlib-compressed",
        timestamp && `signed ${new Date(timestamp * 1000).toLocaleString()}`,
        signature && `signature ${signature}`].filter(Boolean).join(" · ")));
  }
}
