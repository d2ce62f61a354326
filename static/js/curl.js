// curl commands in and out of the request panel. `readCurl` turns a pasted command (from docs,
// a browser's "Copy as cURL (bash)", the talk) into a request; what it cannot send from the
// panel (a file, a multipart form, an option it does not know) is a CurlError saying so, and
// what does not change the request (-s, -o out.txt, | jq) is left out and named. `toCurl` writes
// a request as a command for the app's address through the host (the sandbox's `url`), which
// works from any machine that reaches the playground.
import { ShellError, shellWords } from "./shell.js";

export const MAX_COMMAND_CHARS = 256 * 1024; // a pasted command longer than this is not read

export class CurlError extends Error {}

// Options that take a value, by what they set.
const VALUED = {
  "-X": "method", "--request": "method",
  "-H": "header", "--header": "header",
  "-d": "data", "--data": "data", "--data-ascii": "data", "--data-raw": "raw",
  "--data-binary": "binary", "--data-urlencode": "urlencode", "--json": "json",
  "-u": "user", "--user": "user", "--oauth2-bearer": "bearer",
  "-A": "agent", "--user-agent": "agent", "-e": "referer", "--referer": "referer",
  "-b": "cookie", "--cookie": "cookie", "--url": "url",
};
// Options that take a value which says nothing about the request itself.
const VALUED_IGNORED = new Set(["-o", "--output", "-m", "--max-time", "--connect-timeout", "-w",
  "--write-out", "--retry", "--retry-delay", "--retry-max-time", "-c", "--cookie-jar", "--resolve",
  "--connect-to", "--cacert", "--capath", "-E", "--cert", "--key", "-x", "--proxy", "--max-redirs",
  "--limit-rate", "-D", "--dump-header", "--trace", "--trace-ascii", "--stderr", "-y",
  "--speed-time", "-Y", "--speed-limit", "--interface", "--dns-servers", "--expect100-timeout"]);
// Options without a value that say nothing about the request itself.
const FLAGS_IGNORED = new Set(["-i", "--include", "-s", "--silent", "-S", "--show-error", "-v",
  "--verbose", "-k", "--insecure", "--compressed", "--path-as-is", "-g", "--globoff", "-f",
  "--fail", "--fail-with-body", "-N", "--no-buffer", "-#", "--progress-bar", "--http1.1",
  "--http1.0", "--http2", "--http2-prior-knowledge", "-4", "--ipv4", "-6", "--ipv6", "-O",
  "--remote-name", "-J", "--remote-header-name", "-l", "--list-only", "--no-progress-meter",
  "--no-keepalive", "--no-sessionid", "--tcp-nodelay", "--raw", "--tr-encoding", "-q",
  "--disable", "--location-trusted", "-Z", "--parallel", "--no-alpn", "--no-npn", "--ssl",
  "--no-styled-output", "--styled-output", "-j", "--junk-session-cookies", "--post301",
  "--post302", "--post303"]);
// Options that would send what the panel cannot hold, and what to do instead.
const REFUSED = {
  "-F": "sends a multipart form (-F) with files from your disk: fill Body → form and pick the file there",
  "--form": "sends a multipart form (--form) with files from your disk: fill Body → form and pick the file there",
  "--form-string": "sends a multipart form (--form-string): fill Body → form instead",
  "-T": "uploads a file (-T): paste the file's text into the Body tab instead",
  "--upload-file": "uploads a file (--upload-file): paste the file's text into the Body tab instead",
  "-K": "reads its options from a file (-K): paste the options themselves",
  "--config": "reads its options from a file (--config): paste the options themselves",
  "-:": "holds several requests (-:, --next): paste one at a time",
  "--next": "holds several requests (--next): paste one at a time",
};

/** shellWords, its complaints told as the curl command's. */
function wordsOf(command) {
  try {
    return shellWords(command);
  } catch (error) {
    throw error instanceof ShellError ? new CurlError(error.message) : error;
  }
}

function utf8Base64(text) {
  return btoa(String.fromCharCode(...new TextEncoder().encode(text)));
}

/** `Basic <base64 of user:password>`, as curl -u writes it. */
export function basicAuth(user, password) {
  return `Basic ${utf8Base64(`${user}:${password}`)}`;
}

/** [user, password] of a Basic Authorization value, or null. */
export function readBasicAuth(value) {
  const match = /^Basic\s+([A-Za-z0-9+/]+=*)\s*$/i.exec(value ?? "");
  if (!match) return null;
  let text;
  try {
    text = new TextDecoder().decode(Uint8Array.from(atob(match[1]), (c) => c.charCodeAt(0)));
  } catch {
    return null;
  }
  const colon = text.indexOf(":");
  return colon < 0 ? null : [text.slice(0, colon), text.slice(colon + 1)];
}

/** The path and query of a URL as curl would send them (http: when it has no scheme). `host`
 * is the playground's own: its /apps/<token>/ prefix (copy as curl) is taken off again. */
function targetOf(url, host) {
  const match = /^(?:([a-z][a-z0-9+.-]*):\/\/)?([^/?#]*)([^#]*)/i.exec(url.trim());
  if (match[1] && !/^https?$/i.test(match[1])) throw new CurlError(`the URL is ${match[1]}:, not http: or https:.`);
  let target = match[3] || "/";
  if (!target.startsWith("/")) target = `/${target}`;
  const app = /^\/apps\/[A-Za-z0-9_-]+(\/.*)?$/.exec(target.split("?")[0]);
  if (app && match[2] === host) target = (app[1] || "/") + target.slice(target.split("?")[0].length);
  return target;
}

/**
 * The request a curl command sends: {method, path, headers: {name: value}, body, followRedirects,
 * left: [what was left out]}. `host` is the playground's (location.host). Throws CurlError.
 */
export function readCurl(text, host = "") {
  if (text.length > MAX_COMMAND_CHARS) {
    throw new CurlError(`the command is longer than ${MAX_COMMAND_CHARS / 1024} KB: paste its body into the Body tab instead.`);
  }
  let command = text.trim().replace(/^\$\s+/, ""); // a prompt copied with it
  if (/\^\s*$/m.test(command)) {
    throw new CurlError("it is written for Windows' cmd (lines end in ^): copy it as “cURL (bash)” instead.");
  }
  command = command.replace(/^curl\.exe\b/, "curl");
  const { words, rest } = wordsOf(command);
  if (words[0] !== "curl") throw new CurlError("it does not start with curl.");
  const found = { method: null, headers: [], data: [], urls: [], user: null, cookies: [], follow: false, head: false, get: false, json: false };
  const left = [];
  for (let i = 1; i < words.length; i++) {
    const word = words[i];
    const value = () => {
      if (i + 1 >= words.length) throw new CurlError(`${word} needs a value after it.`);
      return words[++i];
    };
    if (!word.startsWith("-") || word === "-") {
      found.urls.push(word);
    } else if (word.startsWith("--")) {
      option(found, word, value, left);
    } else {
      // -sSL, -XPOST, -H'X: y': single letters, the last of which may take the rest as its value.
      for (let j = 1; j < word.length; j++) {
        const flag = `-${word[j]}`;
        if (VALUED[flag] || VALUED_IGNORED.has(flag) || REFUSED[flag]) {
          const attached = word.slice(j + 1);
          option(found, flag, attached ? () => attached : value, left);
          break;
        }
        option(found, flag, value, left);
      }
    }
  }
  if (rest) left.push(rest);
  if (!found.urls.length) throw new CurlError("it has no URL.");
  if (found.urls.length > 1) throw new CurlError(`it has ${found.urls.length} URLs (${found.urls.join(", ")}): paste one request at a time.`);
  return request(found, host, left);
}

function option(found, name, value, left) {
  if (REFUSED[name]) throw new CurlError(`it ${REFUSED[name]}.`);
  const kind = VALUED[name];
  if (kind === "method") found.method = value().toUpperCase();
  else if (kind === "header") header(found, value());
  else if (kind === "url") found.urls.push(value());
  else if (kind === "user") found.user = value();
  else if (kind === "bearer") found.headers.push(["Authorization", `Bearer ${value()}`]);
  else if (kind === "agent") found.headers.push(["User-Agent", value()]);
  else if (kind === "referer") found.headers.push(["Referer", value()]);
  else if (kind === "cookie") {
    const cookie = value();
    if (!cookie.includes("=")) throw new CurlError(`-b ${cookie} reads cookies from a file: write them as -b 'name=value'.`);
    found.cookies.push(cookie);
  } else if (kind) data(found, kind, name, value());
  else if (name === "-L" || name === "--location") found.follow = true;
  else if (name === "-I" || name === "--head") found.head = true;
  else if (name === "-G" || name === "--get") found.get = true;
  else if (VALUED_IGNORED.has(name)) left.push(`${name} ${value()}`);
  else if (FLAGS_IGNORED.has(name)) left.push(name);
  else throw new CurlError(`the playground does not know curl's option ${name}: take it out and paste again.`);
}

function header(found, text) {
  if (text.startsWith("@")) throw new CurlError(`-H ${text} reads headers from a file: write each as -H 'Name: value'.`);
  const colon = text.indexOf(":");
  if (colon < 0) {
    // "Name;" sends Name with an empty value; anything else is not a header.
    if (text.endsWith(";")) found.headers.push([text.slice(0, -1).trim(), ""]);
    else throw new CurlError(`-H '${text}' is not a header: write it as 'Name: value'.`);
    return;
  }
  const name = text.slice(0, colon).trim();
  const value = text.slice(colon + 1).trim();
  // "Name:" with nothing after it takes away curl's own header: the playground sends none.
  if (value) found.headers.push([name, value]);
}

function data(found, kind, name, text) {
  if ((kind === "data" || kind === "binary" || kind === "json") && text.startsWith("@")) {
    throw new CurlError(`${name} ${text} reads the body from a file: paste the body into the Body tab instead.`);
  }
  if (kind === "urlencode") {
    const at = text.search(/[=@]/);
    if (at >= 0 && text[at] === "@") throw new CurlError(`${name} ${text} reads from a file: paste the value instead.`);
    const key = at > 0 ? text.slice(0, at) : "";
    const content = at >= 0 ? text.slice(at + 1) : text;
    const encoded = encodeURIComponent(content).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
    text = key ? `${key}=${encoded}` : encoded;
  }
  if (kind === "json") found.json = true;
  found.data.push(text);
}

function request(found, host, left) {
  const headers = {};
  const has = (name) => Object.keys(headers).some((n) => n.toLowerCase() === name.toLowerCase());
  for (const [name, value] of found.headers) {
    const same = Object.keys(headers).find((n) => n.toLowerCase() === name.toLowerCase());
    if (same) delete headers[same]; // the last one given wins, as the panel holds one of each
    headers[name] = value;
  }
  if (found.user !== null) {
    const colon = found.user.indexOf(":");
    const [user, password] = colon < 0 ? [found.user, ""] : [found.user.slice(0, colon), found.user.slice(colon + 1)];
    if (!has("Authorization")) headers.Authorization = basicAuth(user, password);
  }
  if (found.cookies.length && !has("Cookie")) headers.Cookie = found.cookies.join("; ");
  let path = targetOf(found.urls[0], host);
  let body = found.data.length ? found.data.join(found.json ? "" : "&") : null;
  let method = found.head ? "HEAD" : "GET";
  if (found.get && body !== null) {
    path += (path.includes("?") ? "&" : "?") + body;
    body = null;
  } else if (body !== null) {
    method = "POST";
    // What curl itself adds with a body.
    if (found.json) {
      if (!has("Content-Type")) headers["Content-Type"] = "application/json";
      if (!has("Accept")) headers.Accept = "application/json";
    } else if (!has("Content-Type")) {
      headers["Content-Type"] = "application/x-www-form-urlencoded";
    }
  }
  return { method: found.method ?? method, path, headers, body, followRedirects: found.follow, left };
}

/** A word as a shell reads it back: bare when it is safe so, else in single quotes. */
function shellQuote(word) {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

/** The parts of a multipart/form-data request body (body_base64), or null for any other body:
 * [{name, filename (null for a field), type, text}]. */
function formParts(request) {
  const type = Object.entries(request.headers ?? {}).find(([name]) => name.toLowerCase() === "content-type")?.[1] ?? "";
  const boundary = /^multipart\/form-data;.*boundary=("?)([^";]+)\1/i.exec(type)?.[2];
  if (!boundary || !request.body_base64) return null;
  const bytes = atob(request.body_base64); // a character a byte
  const utf8 = (text) => new TextDecoder().decode(Uint8Array.from(text, (c) => c.charCodeAt(0)));
  return bytes.split(`--${boundary}`).slice(1, -1).map((part) => {
    const at = part.indexOf("\r\n\r\n");
    const head = part.slice(0, at);
    const filename = /;\s*filename="([^"]*)"/.exec(head)?.[1];
    return {
      name: utf8(/;\s*name="([^"]*)"/.exec(head)?.[1] ?? ""),
      filename: filename === undefined ? null : utf8(filename),
      type: /content-type:\s*([^\r\n]+)/i.exec(head)?.[1] ?? null,
      text: utf8(part.slice(at + 4).replace(/\r\n$/, "")),
    };
  });
}

/**
 * A curl command sending `request` ({method, path, headers, body, body_base64, follow_redirects})
 * to the app at `url` (the sandbox's address through the host, ending in /), options on lines of
 * their own. A body from a file is read from `fileName` (a multipart form's files by their own
 * names), in the folder where curl runs.
 */
export function toCurl(request, url, { fileName = "body.bin" } = {}) {
  const target = url.replace(/\/$/, "") + request.path;
  const form = formParts(request);
  const lines = [["curl", "-i"]];
  const first = lines[0];
  if (request.follow_redirects) first.push("-L");
  const body = request.body || null;
  const posts = form || request.body_base64 || body !== null;
  if (request.method === "HEAD") first.push("-I");
  else if (request.method !== (posts ? "POST" : "GET")) first.push("-X", request.method);
  if (/[[\]{}]/.test(target)) first.push("-g"); // curl would read them as a range of URLs
  if (/\/\.\.?(\/|\?|$)/.test(request.path)) first.push("--path-as-is"); // sent as written
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    if (form && name.toLowerCase() === "content-type") continue; // curl writes its own boundary
    lines.push(["-H", value === "" ? `${name};` : `${name}: ${value}`]);
  }
  if (form) {
    for (const part of form) {
      lines.push(part.filename === null ? ["--form-string", `${part.name}=${part.text}`]
        : ["-F", `${part.name}=@${part.filename}${part.type ? `;type=${part.type}` : ""}`]);
    }
  } else if (request.body_base64) {
    lines.push(["--data-binary", `@${fileName}`]);
  } else if (body !== null) {
    lines.push(["--data-raw", body]); // not --data: a body starting with @ is no file name
  }
  lines.push([target]);
  const text = lines.map((words) => words.map(shellQuote).join(" "));
  return text.join(text.length > 2 ? " \\\n  " : " ");
}
