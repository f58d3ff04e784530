// The RFC 6962 tree of the log and the RFC 9162 proof checks (docs/verification.md, 6 and 9).

import { sha256 } from "./notes.mjs";

export const node = (left, right) => sha256(Buffer.from([0x01]), left, right);

/** H(0x00 || u64(position) || event hash) */
export function leafHash(position, eventHash) {
  const data = Buffer.alloc(8);
  data.writeBigUInt64BE(BigInt(position));
  return sha256(Buffer.from([0x00]), data, eventHash);
}

/** The tree as the roots of its perfect subtrees, largest first. */
export class Tree {
  constructor() {
    this.size = 0;
    this.roots = [];
  }

  append(leaf) {
    let hash = leaf;
    let height = 0;
    while (this.roots.length && this.roots.at(-1).height === height) {
      hash = node(this.roots.pop().hash, hash);
      height++;
    }
    this.roots.push({ hash, height });
    this.size++;
  }

  root() {
    if (!this.roots.length) return sha256(Buffer.alloc(0));
    let hash = this.roots.at(-1).hash;
    for (let i = this.roots.length - 2; i >= 0; i--) hash = node(this.roots[i].hash, hash);
    return hash;
  }
}

const odd = (n) => (n & 1n) === 1n;

/** RFC 9162 2.1.3.2: the root an audit path leads to, or null. */
export function inclusionRoot(leaf, index, size, path) {
  if (index >= size) return null;
  let fn = BigInt(index);
  let sn = BigInt(size - 1);
  let r = leaf;
  for (const p of path) {
    if (sn === 0n) return null;
    if (odd(fn) || fn === sn) {
      r = node(p, r);
      if (!odd(fn)) while (!odd(fn) && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
    } else r = node(r, p);
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n ? r : null;
}

const isPowerOfTwo = (n) => n > 0 && (n & (n - 1)) === 0;

/** RFC 9162 2.1.4.2: whether the proof shows tree (m, oldRoot) is a prefix of (n, newRoot). */
export function consistent(m, n, oldRoot, newRoot, proof) {
  if (m > n) return false;
  if (m === n) return proof.length === 0 && oldRoot.equals(newRoot);
  if (m === 0) return proof.length === 0 && oldRoot.equals(sha256(Buffer.alloc(0)));
  if (proof.length === 0) return false;
  const path = isPowerOfTwo(m) ? [oldRoot, ...proof] : [...proof];
  let fn = BigInt(m - 1);
  let sn = BigInt(n - 1);
  while (odd(fn)) { fn >>= 1n; sn >>= 1n; }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0n) return false;
    if (odd(fn) || fn === sn) {
      fr = node(c, fr);
      sr = node(c, sr);
      if (!odd(fn)) while (!odd(fn) && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
    } else sr = node(sr, c);
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n && fr.equals(oldRoot) && sr.equals(newRoot);
}
