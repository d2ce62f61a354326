// Shows a Python error from the child ({type, message, file, line, traceback}),
// for a failed start and for an exception in a route alike.
import { paintHighlighted } from "./api.js";

/**
 * Fills `container` with the error. `locate(file)` gives the editor's path for the
 * error's file (or null); `onGoto(path, line)` is called when the location is clicked.
 */
export function renderError(container, error, { heading, locate, onGoto }) {
  container.replaceChildren();
  const head = document.createElement("div");
  head.className = "error-head";
  if (heading) {
    const label = document.createElement("span");
    label.className = "error-heading";
    label.textContent = heading;
    head.append(label);
  }
  const what = document.createElement("strong");
  what.textContent = error.type || "Error";
  const message = document.createElement("span");
  message.className = "error-message";
  message.textContent = error.message ? `: ${error.message}` : "";
  head.append(what, message);

  const path = locate(error.file);
  if (path && error.line) {
    const where = document.createElement("button");
    where.type = "button";
    where.className = "link error-location";
    where.textContent = `${path}, line ${error.line}`;
    where.addEventListener("click", () => onGoto(path, error.line));
    head.append(where);
  }
  container.append(head);

  // Why OpenSSL refused a certificate, in plain words, and what the snippet's certificates say.
  if (error.explanation) {
    const explanation = document.createElement("p");
    explanation.className = "error-explanation";
    explanation.textContent = error.explanation;
    container.append(explanation);
  }
  for (const cert of error.certificates ?? []) {
    const line = document.createElement("p");
    line.className = "meta";
    line.textContent = [cert.file, cert.key_type && `${cert.key_type} ${cert.key_size ?? ""} key`,
      cert.signature_hash && `signed with ${cert.signature_hash}`, cert.self_signed && "self-signed",
      cert.not_after && `valid until ${cert.not_after}`].filter(Boolean).join(" · ");
    container.append(line);
  }

  if (error.traceback) {
    const pre = document.createElement("pre");
    pre.className = "hl traceback";
    container.append(pre);
    paintHighlighted(pre, error.traceback.replace(/\n$/, ""), "pytb");
  }
  container.hidden = false;
}
