// The sandbox's cookie jar: what the app set, the Flask session decoded, and
// editing or deleting a cookie before the next request.
import { api, paintHighlighted } from "./api.js";

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

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
    const p = document.createElement("p");
    p.className = "error-text";
    p.textContent = text;
    this.root.prepend(p);
  }

  setByResponse(setCookies) {
    const box = document.createElement("div");
    box.className = "set-cookies";
    const title = document.createElement("h4");
    title.textContent = "This response";
    box.append(title);
    for (const cookie of setCookies) {
      const line = document.createElement("div");
      const deleted = isDeletion(cookie);
      line.className = deleted ? "deleted" : "set";
      line.textContent = deleted ? `deleted ${cookie.name}` : `set ${cookie.name} = ${cookie.value}`;
      box.append(line);
    }
    return box;
  }

  jarTable(cookies) {
    const table = document.createElement("table");
    table.className = "jar";
    table.createTHead().innerHTML =
      "<tr><th>Name</th><th>Value</th><th>Path</th><th>Expires</th><th>Flags</th><th></th></tr>";
    const body = table.createTBody();
    for (const cookie of cookies) {
      const row = body.insertRow();
      cell(row, cookie.name, "name");
      const value = document.createElement("input");
      value.value = cookie.value;
      value.spellcheck = false;
      value.title = "Edit and press Enter: the next request sends this value";
      value.setAttribute("aria-label", `Value of ${cookie.name}`);
      value.addEventListener("keydown", (event) => {
        if (event.key === "Enter") value.blur();
      });
      value.addEventListener("change", () =>
        this.change("PUT", "", { name: cookie.name, value: value.value, path: cookie.path }));
      row.insertCell().append(value);
      cell(row, cookie.path ?? "/");
      cell(row, expiry(cookie.expires));
      const flags = [cookie.secure && "Secure", cookie.httponly && "HttpOnly",
        cookie.samesite && `SameSite=${cookie.samesite}`].filter(Boolean);
      cell(row, flags.join(" "), "flags");
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "icon";
      remove.textContent = "×";
      remove.title = `Delete ${cookie.name}`;
      remove.addEventListener("click", () => this.change("DELETE", `/${encodeURIComponent(cookie.name)}`));
      row.insertCell().append(remove);
    }
    const add = body.insertRow();
    add.className = "add";
    const name = document.createElement("input");
    name.placeholder = "new cookie";
    const value = document.createElement("input");
    value.placeholder = "value";
    const save = document.createElement("button");
    save.type = "button";
    save.className = "small";
    save.textContent = "Add";
    save.addEventListener("click", () => {
      if (name.value.trim()) this.change("PUT", "", { name: name.value.trim(), value: value.value, path: "/" });
    });
    add.insertCell().append(name);
    add.insertCell().append(value);
    const actions = add.insertCell();
    actions.colSpan = 4;
    actions.append(save);
    if (cookies.length) {
      const clear = document.createElement("button");
      clear.type = "button";
      clear.className = "small";
      clear.textContent = "Delete all";
      clear.addEventListener("click", () => this.change("DELETE"));
      actions.append(" ", clear);
    }
    return table;
  }

  session(cookie) {
    const { payload, compressed, timestamp, signature } = cookie.flask_session;
    const box = document.createElement("div");
    box.className = "flask-session";
    const title = document.createElement("h4");
    title.textContent = `Flask session in “${cookie.name}” (signed, not encrypted: anyone can read it)`;
    const pre = document.createElement("pre");
    pre.className = "hl";
    paintHighlighted(pre, JSON.stringify(payload, null, 2), "json");
    const facts = document.createElement("p");
    facts.className = "meta";
    facts.textContent = [compressed && "zlib-compressed",
      timestamp && `signed ${new Date(timestamp * 1000).toLocaleString()}`,
      signature && `signature ${signature}`].filter(Boolean).join(" · ");
    box.append(title, pre, facts);
    return box;
  }

}
