// Shows a Python error from the child ({type, message, file, line, traceback}),
// for a failed start and for an exception in a route alike.
import { paintHighlighted } from "./api.js";
import { el } from "./dom.js";

/**
 * Fills `container` with the error. `locate(file)` gives the editor's path for the
 * error's file (or null); `onGoto(path, line)` is called when the location is clicked.
 */
export function renderError(container, error, { heading, locate, onGoto }) {
  const path = locate(error.file);
  const where = path && error.line
    ? el("button", { type: "button", className: "link error-location" }, `${path}, line ${error.line}`) : null;
  where?.addEventListener("click", () => onGoto(path, error.line));
  container.replaceChildren(el("div", { className: "error-head" },
    heading && el("span", { className: "error-heading" }, heading),
    el("strong", {}, error.type || "Error"),
    el("span", { className: "error-message" }, error.message ? `: ${error.message}` : ""), where));

  // Why OpenSSL refused a certificate, in plain words, and what the snippet's certificates say.
  if (error.explanation) container.append(el("p", { className: "error-explanation" }, error.explanation));
  for (const cert of error.certificates ?? []) {
    container.append(el("p", { className: "meta" }, [cert.file, cert.key_type && `${cert.key_type} ${cert.key_size ?? ""} key`,
      cert.signature_hash && `signed with ${cert.signature_hash}`, cert.self_signed && "self-signed",
      cert.not_after && `valid until ${cert.not_after}`].filter(Boolean).join(" · ")));
  }

  if (error.traceback?.trim().includes("\n")) { // one line would only repeat the head
    const pre = el("pre", { className: "hl traceback", tabIndex: 0 });
    container.append(pre);
    paintHighlighted(pre, error.traceback.replace(/\n$/, ""), "pytb");
  }
  container.hidden = false;
}
