// A multipart/form-data body, as a browser builds one for a form with a file input: the text
// fields, then the file, each in a part of its own between boundaries (RFC 7578, with the
// escaping of names the HTML standard gives browsers).
const encoder = new TextEncoder();

function quoted(text) {
  return text.replace(/[\n\r"]/g, (c) => ({ "\n": "%0A", "\r": "%0D", '"': "%22" })[c]);
}

/**
 * fields: [[name, value]...]; file: {field, name, type, bytes}. Returns the Content-Type header
 * (with its boundary) and the body's bytes.
 */
export function multipart(fields, file) {
  const boundary = `----PlaygroundFormBoundary${crypto.randomUUID().replaceAll("-", "")}`;
  const parts = fields.map(([name, value]) => encoder.encode(
    `--${boundary}\r\nContent-Disposition: form-data; name="${quoted(name)}"\r\n\r\n${value}\r\n`));
  parts.push(encoder.encode(`--${boundary}\r\nContent-Disposition: form-data; name="${quoted(file.field)}"; `
    + `filename="${quoted(file.name)}"\r\nContent-Type: ${file.type || "application/octet-stream"}\r\n\r\n`),
  file.bytes, encoder.encode(`\r\n--${boundary}--\r\n`));
  const bytes = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  return { contentType: `multipart/form-data; boundary=${boundary}`, bytes };
}
