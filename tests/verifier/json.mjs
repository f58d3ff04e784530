// Strict JSON for the release ledger's export (docs/verification.md, sections 2 and 3.2):
// a parser that rejects duplicate member names (I-JSON) and any number but an integer within
// ±(2^53 - 1), and RFC 8785 (JCS) serialisation of what it parses.

export class JsonError extends Error {}

const MAX = 2n ** 53n - 1n;
const ESCAPES = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };

/** Parse one JSON text strictly. */
export function parse(text) {
  let at = 0;
  const fail = (why) => {
    throw new JsonError(`${why} at character ${at}`);
  };
  const space = () => {
    while (at < text.length && " \t\n\r".includes(text[at])) at++;
  };
  const expect = (word) => {
    if (text.startsWith(word, at)) at += word.length;
    else fail(`expected ${word}`);
  };
  const string = () => {
    expect('"');
    let out = "";
    for (;;) {
      const c = text[at++];
      if (c === undefined) fail("unterminated string");
      if (c === '"') return out;
      if (c < " ") fail("a control character in a string");
      if (c !== "\\") {
        out += c;
        continue;
      }
      const e = text[at++];
      if (e === "u") {
        const hex = text.slice(at, at + 4);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail("a bad \\u escape");
        out += String.fromCharCode(parseInt(hex, 16));
        at += 4;
      } else if (e in ESCAPES) out += ESCAPES[e];
      else fail("a bad escape");
    }
  };
  const number = () => {
    const match = /^-?(0|[1-9][0-9]*)([.eE][-+0-9.eE]*)?/.exec(text.slice(at));
    if (!match) fail("not a value");
    if (match[2]) fail(`the number ${match[0]} is not an integer`);
    if (BigInt(match[0]) > MAX || BigInt(match[0]) < -MAX) fail(`${match[0]} is beyond ±(2^53 - 1)`);
    at += match[0].length;
    return Number(match[0]);
  };
  const value = () => {
    space();
    const c = text[at];
    let v;
    if (c === "{") {
      at++;
      v = {};
      space();
      if (text[at] === "}") at++;
      else
        for (;;) {
          space();
          const name = string();
          if (Object.prototype.hasOwnProperty.call(v, name)) fail(`the member "${name}" twice`);
          space();
          expect(":");
          Object.defineProperty(v, name, { value: value(), enumerable: true, writable: true });
          space();
          if (text[at] === ",") at++;
          else if (text[at] === "}") { at++; break; }
          else fail("expected , or }");
        }
    } else if (c === "[") {
      at++;
      v = [];
      space();
      if (text[at] === "]") at++;
      else
        for (;;) {
          v.push(value());
          space();
          if (text[at] === ",") at++;
          else if (text[at] === "]") { at++; break; }
          else fail("expected , or ]");
        }
    } else if (c === '"') v = string();
    else if (c === "t") { expect("true"); v = true; }
    else if (c === "f") { expect("false"); v = false; }
    else if (c === "n") { expect("null"); v = null; }
    else v = number();
    space();
    return v;
  };
  const result = value();
  if (at !== text.length) fail("text after the value");
  return result;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** RFC 8785: the canonical JSON text of a value parsed above. */
export function canonical(v) {
  if (v === null) return "null";
  if (v === true || v === false) return String(v);
  if (typeof v === "number") {
    if (!Number.isSafeInteger(v)) throw new JsonError(`${v} is not an integer within ±(2^53 - 1)`);
    return String(v);
  }
  if (typeof v === "string") {
    if (LONE_SURROGATE.test(v)) throw new JsonError("a string holds a lone surrogate");
    return JSON.stringify(v); // ECMAScript's serialisation of strings is JCS's
  }
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  // Array.prototype.sort compares strings by UTF-16 code units, as JCS orders names.
  const names = Object.keys(v).sort();
  return `{${names.map((n) => `${canonical(n)}:${canonical(v[n])}`).join(",")}}`;
}
