// A command line read as a POSIX shell reads it, for what the page takes as typed or pasted
// commands: curl commands (curl.js) and the flask command line (commands.js). Quotes and
// escapes are undone; what only a shell could do (variables, `...`) is a ShellError saying so.

export class ShellError extends Error {}

/** The words of a POSIX shell command line, quotes and escapes undone, up to the first |, ;, &
 * or redirection (returned as `rest`: what a shell would pipe, chain or redirect). */
export function shellWords(text) {
  const words = [];
  let word = null; // null between words; "" is an empty quoted word
  let i = 0;
  const add = (chars) => { word = (word ?? "") + chars; };
  const end = () => {
    if (word !== null) words.push(word);
    word = null;
  };
  while (i < text.length) {
    const c = text[i];
    if (c === "\\") {
      if (text[i + 1] === "\n") i += 2; // a line continued
      else if (text[i + 1] === "\r" && text[i + 2] === "\n") i += 3;
      else {
        add(text[i + 1] ?? "");
        i += 2;
      }
    } else if (c === "'") {
      const close = text.indexOf("'", i + 1);
      if (close < 0) throw new ShellError("a ' quote is not closed.");
      add(text.slice(i + 1, close));
      i = close + 1;
    } else if (c === "$" && text[i + 1] === "'") {
      i = ansiC(text, i + 2, add);
    } else if (c === '"') {
      i = doubleQuoted(text, i + 1, add);
    } else if (c === "$" && /[A-Za-z_{(]/.test(text[i + 1] ?? "")) {
      throw new ShellError(`it uses the shell's ${text.slice(i, i + 12).split(/\s/)[0]}: put the value itself in its place.`);
    } else if (c === "`") {
      throw new ShellError("it runs a command inside it (`...`): put the value itself in its place.");
    } else if (/\s/.test(c)) {
      end();
      i++;
    } else if ("|;&<>".includes(c)) {
      end();
      return { words, rest: text.slice(i).trim() };
    } else {
      add(c);
      i++;
    }
  }
  end();
  return { words, rest: "" };
}

function doubleQuoted(text, i, add) {
  while (i < text.length && text[i] !== '"') {
    if (text[i] === "\\" && '"\\$`\n'.includes(text[i + 1])) {
      if (text[i + 1] !== "\n") add(text[i + 1]);
      i += 2;
    } else if (text[i] === "$" && /[A-Za-z_{(]/.test(text[i + 1] ?? "")) {
      throw new ShellError(`it uses the shell's ${text.slice(i, i + 12).split(/[\s"]/)[0]}: put the value itself in its place.`);
    } else if (text[i] === "`") {
      throw new ShellError("it runs a command inside it (`...`): put the value itself in its place.");
    } else {
      add(text[i]);
      i++;
    }
  }
  if (i >= text.length) throw new ShellError('a " quote is not closed.');
  return i + 1;
}

const ANSI_ESCAPES = { n: "\n", t: "\t", r: "\r", a: "\x07", b: "\b", e: "\x1b", E: "\x1b", f: "\f", v: "\v", "\\": "\\", "'": "'", '"': '"', "?": "?" };

/** $'...' as bash reads it (browsers' "Copy as cURL" writes bodies so). */
function ansiC(text, i, add) {
  while (i < text.length && text[i] !== "'") {
    if (text[i] !== "\\") {
      add(text[i]);
      i++;
      continue;
    }
    const next = text[i + 1];
    const hex = { x: 2, u: 4, U: 8 }[next];
    if (hex) {
      const digits = text.slice(i + 2).match(new RegExp(`^[0-9a-fA-F]{1,${hex}}`))?.[0];
      if (!digits) throw new ShellError(`\\${next} in $'...' needs hexadecimal digits.`);
      add(next === "x" ? String.fromCharCode(parseInt(digits, 16)) : String.fromCodePoint(parseInt(digits, 16)));
      i += 2 + digits.length;
    } else if (/[0-7]/.test(next ?? "")) {
      const digits = text.slice(i + 1).match(/^[0-7]{1,3}/)[0];
      add(String.fromCharCode(parseInt(digits, 8)));
      i += 1 + digits.length;
    } else {
      add(ANSI_ESCAPES[next] ?? `\\${next ?? ""}`);
      i += 2;
    }
  }
  if (i >= text.length) throw new ShellError("a $' quote is not closed.");
  return i + 1;
}
