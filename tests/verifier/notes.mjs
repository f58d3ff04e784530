// Keys, checkpoint notes, signatures and cosignatures (docs/verification.md, sections 7 and 8),
// with node:crypto's SHA-256 and Ed25519.

import { createHash, createPublicKey, verify } from "node:crypto";

export const sha256 = (...parts) => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest();
};

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Standard base64 with padding, strictly: null when it is not. */
export function unbase64(text) {
  if (typeof text !== "string" || !BASE64.test(text)) return null;
  const raw = Buffer.from(text, "base64");
  return raw.toString("base64") === text ? raw : null;
}

/** Ed25519 (RFC 8032) over message with a raw 32-byte public key. */
export function ed25519Valid(publicKey, message, signature) {
  if (signature.length !== 64) return false;
  const key = createPublicKey({
    key: { kty: "OKP", crv: "Ed25519", x: publicKey.toString("base64url") },
    format: "jwk",
  });
  return verify(null, message, key, signature);
}

/** H(name || 0x0A || type || key)[0:4] */
export const keyId = (name, type, publicKey) =>
  sha256(Buffer.from(name, "utf8"), Buffer.from([0x0a, type]), publicKey).subarray(0, 4);

const validName = (name) => name.length > 0 && !/[\s+]/u.test(name);

/** A verifier key name+hash+base64(type || key) of the given type (0x01 log, 0x04 witness). */
export function parseVerifierKey(text, type) {
  const first = text.indexOf("+");
  const second = text.indexOf("+", first + 1);
  if (first < 0 || second < 0) throw new Error(`not a verifier key: ${text}`);
  const name = text.slice(0, first);
  const hash = text.slice(first + 1, second);
  const raw = unbase64(text.slice(second + 1));
  if (!validName(name)) throw new Error(`the key name ${JSON.stringify(name)} is not valid`);
  if (raw === null || raw.length !== 33 || raw[0] !== type)
    throw new Error(`not a key of type 0x0${type} (33 bytes of base64): ${text}`);
  const key = { name, publicKey: raw.subarray(1), type };
  key.id = keyId(name, type, key.publicKey);
  if (hash !== key.id.toString("hex")) throw new Error(`the key ID of ${text} is not ${key.id.toString("hex")}`);
  return key;
}

/** A signed note's body (text before its last empty line) and its signature lines. */
export function splitNote(note) {
  if (/[\u0000-\u0009\u000b-\u001f]/.test(note)) throw new Error("the note holds a control character");
  const end = note.lastIndexOf("\n\n");
  if (end < 0) return { body: note, signatures: [] };
  const body = note.slice(0, end + 1);
  const rest = note.slice(end + 2);
  if (!rest.endsWith("\n")) throw new Error("the note's last line does not end in a newline");
  const signatures = rest.slice(0, -1).split("\n").map((line) => {
    const match = /^\u2014 (\S+) (\S+)$/u.exec(line);
    const raw = match && unbase64(match[2]);
    if (!match || !validName(match[1]) || raw === null || raw.length < 5)
      throw new Error(`not a signature line: ${JSON.stringify(line)}`);
    return { name: match[1], id: raw.subarray(0, 4), signature: raw.subarray(4) };
  });
  return { body, signatures };
}

/** The origin, size and root (hex) of a checkpoint body. */
export function parseBody(body) {
  const lines = body.split("\n");
  if (lines.length < 4 || lines.at(-1) !== "" || lines.slice(0, -1).includes(""))
    throw new Error("the body is not three or more non-empty lines");
  const [origin, size, root] = lines;
  if (!/^(0|[1-9][0-9]*)$/.test(size)) throw new Error(`the tree size ${size} is not decimal`);
  const rootBytes = unbase64(root);
  if (rootBytes === null || rootBytes.length !== 32) throw new Error("the root is not base64 of 32 bytes");
  return { origin, size: Number(size), root: rootBytes.toString("hex") };
}

const byKey = (signatures, key) => signatures.filter((s) => s.name === key.name && s.id.equals(key.id));

/** Why the body holds no valid signature by the log's key, or null. */
export function logSignatureProblem(body, signatures, key) {
  const ours = byKey(signatures, key);
  if (ours.length === 0) return `no signature by ${key.name} (key ID ${key.id.toString("hex")})`;
  const message = Buffer.from(body, "utf8");
  if (!ours.every((s) => ed25519Valid(key.publicKey, message, s.signature)))
    return `the signature by ${key.name} does not verify`;
  return null;
}

/** Which witnesses' cosignature/v1 lines verify over the body, and the failures. */
export function cosigners(body, signatures, witnesses) {
  const names = [];
  const problems = [];
  for (const witness of witnesses) {
    for (const s of byKey(signatures, witness)) {
      if (s.signature.length !== 72) {
        problems.push(`the cosignature of ${witness.name} is not 8 + 64 bytes`);
        continue;
      }
      const time = s.signature.readBigUInt64BE(0);
      const message = Buffer.from(`cosignature/v1\ntime ${time}\n${body}`, "utf8");
      if (!ed25519Valid(witness.publicKey, message, s.signature.subarray(8)))
        problems.push(`the cosignature of ${witness.name} does not verify`);
      else if (!names.includes(witness.name)) names.push(witness.name);
    }
  }
  return { names, problems };
}

/** The bytes a v1 checkpoint's signature covers. */
export const v1Statement = (c) =>
  Buffer.from(
    `release-ledger checkpoint v1\ntree_size ${c.tree_size}\nroot_hash ${c.root_hash}\ncreated_at ${c.created_at}\n`,
    "utf8",
  );

/** Why a checkpoint object is not its tree's, signed by the log key (origin: the log's). */
export function checkpointProblems(c, key, origin, allowUnsigned) {
  if (c.note === null || c.note === undefined) {
    if (c.signature === null || c.signature === undefined) return allowUnsigned ? [] : ["it is not signed"];
    const sig = Buffer.from(String(c.signature), "hex");
    return ed25519Valid(key.publicKey, v1Statement(c), sig) ? [] : ["its v1 signature does not verify"];
  }
  const { body, signatures } = splitNote(String(c.note));
  const tree = parseBody(body);
  const problems = [];
  if (tree.size !== c.tree_size || tree.root !== c.root_hash)
    problems.push(`its note is of tree ${tree.size} ${tree.root}, not ${c.tree_size} ${c.root_hash}`);
  if (origin !== null && tree.origin !== origin) problems.push(`its note's origin is ${tree.origin}, not ${origin}`);
  if (tree.origin !== key.name) problems.push(`its note's origin is ${tree.origin}, the key's name ${key.name}`);
  if (signatures.length === 0 && allowUnsigned) return problems;
  const problem = logSignatureProblem(body, signatures, key);
  return problem === null ? problems : [...problems, problem];
}
