// The request panel's Auth page: Basic (user and password) and Bearer (a token), written into the
// Authorization header where the visitor sees it, and read back from it when the header is
// filled or typed in by hand (a curl -u, a history entry), as Postman's helpers do.
import { basicAuth, readBasicAuth } from "./curl.js";

export class AuthHelper {
  /** page: the Auth page; headers: the panel's header rows; onChange() after it wrote them. */
  constructor(page, headers, { label, onChange }) {
    this.page = page;
    this.headers = headers;
    this.label = label;
    this.onChange = onChange;
    const $ = (id) => page.querySelector(`#${id}`);
    this.fields = { user: $("auth-user"), password: $("auth-password"), token: $("auth-token") };
    for (const radio of this.radios()) {
      radio.addEventListener("change", () => {
        this.show(radio.value);
        this.write();
        page.querySelector(`[data-auth="${radio.value}"] input`)?.focus();
      });
    }
    for (const input of Object.values(this.fields)) input.addEventListener("input", () => this.write());
  }

  radios() {
    return [...this.page.querySelectorAll("input[name=auth-type]")];
  }

  get kind() {
    return this.radios().find((radio) => radio.checked).value;
  }

  show(kind) {
    for (const radio of this.radios()) radio.checked = radio.value === kind;
    for (const fields of this.page.querySelectorAll("[data-auth]")) fields.hidden = fields.dataset.auth !== kind;
    this.label.textContent = kind === "none" ? "" : kind;
  }

  /** The header as the fields say: set, or taken away when they are empty or say none. */
  write() {
    const { user, password, token } = this.fields;
    let value = null;
    if (this.kind === "basic" && (user.value || password.value)) value = basicAuth(user.value, password.value);
    if (this.kind === "bearer" && token.value.trim()) value = `Bearer ${token.value.trim()}`;
    this.headers.put("Authorization", value);
    this.onChange();
  }

  /** The fields as the header says (a header of another scheme leaves them at none). */
  read() {
    const value = this.headers.valueOf("Authorization");
    const basic = readBasicAuth(value);
    const bearer = /^Bearer\s+(.+)$/i.exec(value ?? "");
    if (basic) [this.fields.user.value, this.fields.password.value] = basic;
    if (bearer) this.fields.token.value = bearer[1].trim();
    this.show(basic ? "basic" : bearer ? "bearer" : "none");
  }
}
