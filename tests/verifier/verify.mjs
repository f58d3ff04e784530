#!/usr/bin/env node
// An independent verifier of the release ledger's export, written from docs/verification.md
// alone: Node.js 18 or later, standard library only.
//
//   node verify.mjs EXPORT --key VERIFIER_KEY [--witness KEY ...] [--quorum K]
//                          [--proof FILE ...] [--allow-unsigned]
//
// Exit status: 0 when everything verifies, 1 on any failure (each named by line and
// position), 2 when it cannot run.

import { createReadStream, readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { parse, canonical } from "./json.mjs";
import { Tree, leafHash, inclusionRoot, consistent } from "./merkle.mjs";
import { sha256, parseVerifierKey, splitNote, cosigners, checkpointProblems } from "./notes.mjs";

const GENESIS = "0".repeat(64);
const HEX64 = /^[0-9a-f]{64}$/;

function options(argv) {
  const o = { witnesses: [], proofs: [], quorum: null, allowUnsigned: false, key: null, file: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === "--key") o.key = parseVerifierKey(next(), 0x01);
    else if (a === "--witness") o.witnesses.push(parseVerifierKey(next(), 0x04));
    else if (a === "--quorum") o.quorum = Number.parseInt(next(), 10);
    else if (a === "--proof") o.proofs.push(next());
    else if (a === "--allow-unsigned") o.allowUnsigned = true;
    else if (a.startsWith("--")) throw new Error(`unknown option ${a}`);
    else if (o.file === null) o.file = a;
    else throw new Error(`one export only (${a})`);
  }
  if (o.file === null || o.key === null) throw new Error("usage: verify.mjs EXPORT --key VERIFIER_KEY [...]");
  if (o.quorum === null) o.quorum = o.witnesses.length;
  if (!Number.isSafeInteger(o.quorum) || o.quorum < 0) throw new Error("--quorum is a count");
  return o;
}

/** The hash of an event's form by its scheme (section 3.1). */
function formHash(scheme, form) {
  if (scheme === 1) return sha256(Buffer.from(`${form.type}\n${canonical(form.event)}`, "utf8"));
  if (scheme === 2 || scheme === 3) return sha256(Buffer.from(canonical(form), "utf8"));
  throw new Error(`hash scheme ${scheme} is not one the specification knows`);
}

class Verifier {
  constructor(o) {
    Object.assign(this, { o, failures: [], notes: [], roots: new Map(), cosigned: new Map() });
    Object.assign(this, { tips: new Map(), tree: new Tree(), position: 0, withheld: 0, leafShift: 0 });
    Object.assign(this, { origin: null, started: false, ended: false, lineNo: 0, wanted: new Map() });
  }

  fail(detail, where = {}) {
    const place = [`line ${this.lineNo}`];
    const labels = { position: "position", stream_id: "stream", version: "version", tree_size: "checkpoint" };
    for (const [k, label] of Object.entries(labels))
      if (where[k] !== undefined && where[k] !== null) place.push(`${label} ${where[k]}`);
    this.failures.push(`FAIL ${place.join(" ")}: ${detail}`);
  }

  line(text) {
    this.lineNo++;
    let line;
    try {
      line = parse(text);
      if (line === null || typeof line !== "object" || Array.isArray(line)) throw new Error("not a JSON object");
      if (this.ended) throw new Error("a line after the end line");
      if (!this.started && line.kind !== "header") throw new Error("the first line is not the header");
      const handle = { header: this.header, checkpoint: this.checkpoint, event: this.event, end: this.end }[line.kind];
      if (!handle) throw new Error(`unknown kind ${JSON.stringify(line.kind)}`);
      handle.call(this, line);
    } catch (error) {
      this.fail(error.message, line && line.kind === "event" ? line : {});
    }
  }

  header(h) {
    if (this.started) throw new Error("a second header");
    this.started = true;
    if (h.format !== "release-ledger-export" || h.version !== 1) throw new Error("not a release-ledger-export of version 1");
    this.origin = h.origin;
    if (this.o.key.name !== h.origin) this.fail(`the export is of log ${h.origin}, the key of ${this.o.key.name}`);
  }

  checkpoint(c) {
    if (this.tree.size > 0) throw new Error("a checkpoint after the first event");
    if (!Number.isSafeInteger(c.tree_size) || c.tree_size < 0 || !HEX64.test(c.root_hash)) throw new Error("a malformed checkpoint");
    const latest = Math.max(0, ...this.roots.keys());
    if (this.roots.size && c.tree_size <= latest) throw new Error(`checkpoint ${c.tree_size} does not come after ${latest}`);
    this.roots.set(c.tree_size, c.root_hash);
    const where = { tree_size: c.tree_size };
    for (const p of checkpointProblems(c, this.o.key, this.origin, this.o.allowUnsigned)) this.fail(`checkpoint: ${p}`, where);
    if (c.note) {
      const { body, signatures } = splitNote(c.note);
      const { names, problems } = cosigners(body, signatures, this.o.witnesses);
      this.cosigned.set(c.tree_size, names);
      for (const p of problems) this.fail(`checkpoint: ${p}`, where);
    }
    const proof = this.wanted.get(`root ${c.tree_size}`);
    if (proof && proof !== c.root_hash) this.fail(`a proof's checkpoint ${c.tree_size} has another root (${proof})`, where);
  }

  event(e) {
    const n = this.tree.size;
    for (const k of ["position", "version"]) if (!Number.isSafeInteger(e[k]) || e[k] < 0) throw new Error(`${k} is not a count`);
    if (typeof e.stream_id !== "string") throw new Error("stream_id is not a string");
    if (e.position <= this.position) this.fail(`position ${e.position} does not come after ${this.position}`, e);
    this.position = Math.max(this.position, e.position);
    const latest = Math.max(0, ...this.roots.keys());
    if (e.leaf_index !== null && e.leaf_index !== n + this.leafShift) {
      this.fail(`leaf_index is ${e.leaf_index}, but this is event ${n} (from 0): event lines are missing or added`, e);
      this.leafShift = e.leaf_index - n; // reported once, not again for every later line
    }
    if (e.leaf_index === null && n < latest) this.fail(`event ${n} has no leaf_index, but checkpoint ${latest} covers it`, e);
    const hash = this.hashOf(e);
    this.chain(e, hash);
    this.tree.append(leafHash(e.position, hash === null ? Buffer.alloc(32) : Buffer.from(hash, "hex")));
    const root = this.roots.get(this.tree.size);
    const ours = this.tree.root().toString("hex");
    if (root !== undefined && ours !== root)
      this.fail(`the tree of the first ${this.tree.size} events has the root ${ours}, not the checkpoint's ${root}`, { tree_size: this.tree.size });
    const proof = this.wanted.get(`event ${e.position}`);
    if (proof) {
      proof.found = true;
      if (proof.hash !== hash || proof.index !== e.leaf_index) this.fail(`an inclusion proof says ${proof.hash} at leaf ${proof.index}`, e);
    }
  }

  /** The event's hash once its form, if shown, hashes to it and agrees with the line. */
  hashOf(e) {
    if (e.form === null) {
      this.withheld++;
      if (e.withheld !== "secret") this.fail(`the event has no form: ${e.detail ?? e.withheld}`, e);
      else if (e.hash_scheme !== 1 && e.hash_scheme !== 2) this.fail(`a withheld event of hash scheme ${e.hash_scheme}`, e);
      if (e.hash !== null && !HEX64.test(e.hash)) this.fail("hash is not 64 hex digits", e);
      return e.hash === null || !HEX64.test(e.hash) ? null : e.hash;
    }
    const f = e.form;
    if (typeof f !== "object" || Array.isArray(f) || Object.keys(f).sort().join() !== "event,type" || typeof f.event !== "object")
      throw new Error('the form is not {"event": {...}, "type": ...}');
    const agree = [
      ["type", f.type, e.type], ["originator_id", f.event.originator_id, e.stream_id],
      ["originator_version", f.event.originator_version, e.version], ["prev_hash", f.event.prev_hash, e.prev_hash],
      ["hash_scheme", f.event.hash_scheme ?? 1, e.hash_scheme],
    ];
    for (const [name, inside, outside] of agree)
      if (inside !== outside) this.fail(`the form's ${name} is ${JSON.stringify(inside)}, the line's ${JSON.stringify(outside)}`, e);
    const computed = formHash(e.hash_scheme, f).toString("hex");
    if (computed !== e.hash) this.fail(`the form hashes to ${computed}, not to the line's hash ${e.hash}`, e);
    return HEX64.test(e.hash) ? e.hash : null;
  }

  /** Section 5: versions 1..n, each prev_hash the hash of the version before. */
  chain(e, hash) {
    const tip = this.tips.get(e.stream_id);
    if (tip === undefined && e.version !== 1) this.fail(`the stream's first event is version ${e.version}, not 1`, e);
    else if (tip === undefined && e.prev_hash !== GENESIS) this.fail("the stream's first prev_hash is not the genesis", e);
    else if (tip !== undefined && e.version !== tip.version + 1) this.fail(`version ${e.version} follows version ${tip.version}`, e);
    else if (tip !== undefined && tip.hash !== null && e.prev_hash !== tip.hash)
      this.fail(`prev_hash ${e.prev_hash} is not the hash of version ${tip.version} (${tip.hash})`, e);
    this.tips.set(e.stream_id, { version: e.version, hash });
  }

  end(x) {
    this.ended = true;
    const held = [this.tree.size, this.withheld, this.roots.size];
    if (x.events !== held[0] || x.withheld !== held[1] || x.checkpoints !== held[2])
      this.fail(`the end line counts ${[x.events, x.withheld, x.checkpoints]}, the export holds ${held}: lines were removed or added`);
  }

  finish() {
    this.lineNo++;
    if (!this.ended) this.fail("the export has no end line: it was cut short");
    for (const size of this.roots.keys())
      if (size > this.tree.size) this.fail(`checkpoint ${size} covers more events than the export holds (${this.tree.size})`, { tree_size: size });
    const latest = Math.max(0, ...this.roots.keys());
    const names = this.cosigned.get(latest) ?? [];
    if (this.o.quorum > 0 && names.length < this.o.quorum)
      this.fail(`checkpoint ${latest} is cosigned by ${names.length} of the witnesses (${names.join(", ") || "none"}), fewer than ${this.o.quorum}`, { tree_size: latest });
    for (const [what, proof] of this.wanted)
      if (what.startsWith("event") && !proof.found) this.fail(`an inclusion proof names position ${proof.position}, which the export does not hold`);
    return { latest, names };
  }

  /** Section 9: a proof file, checked on its own, then against the export as it is read. */
  proof(file) {
    const where = `proof ${file}`;
    const p = parse(readFileSync(file, "utf8"));
    const checkpoints = p.type === "inclusion" ? [p.checkpoint] : [p.first, p.second];
    for (const c of checkpoints)
      for (const problem of checkpointProblems(c, this.o.key, null, this.o.allowUnsigned))
        this.failures.push(`FAIL ${where} checkpoint ${c.tree_size}: ${problem}`);
    if (p.type === "inclusion") {
      const leaf = leafHash(p.position, Buffer.from(p.event_hash, "hex"));
      if (leaf.toString("hex") !== p.leaf_hash) this.failures.push(`FAIL ${where}: leaf_hash is not the leaf of position ${p.position}`);
      const root = inclusionRoot(leaf, p.leaf_index, p.checkpoint.tree_size, p.audit_path.map((h) => Buffer.from(h, "hex")));
      if (root === null || root.toString("hex") !== p.checkpoint.root_hash)
        this.failures.push(`FAIL ${where}: the audit path does not lead from leaf ${p.leaf_index} to checkpoint ${p.checkpoint.tree_size}'s root`);
      this.wanted.set(`event ${p.position}`, { position: p.position, hash: p.event_hash, index: p.leaf_index, found: false });
    } else if (p.type === "consistency") {
      const [a, b] = [p.first, p.second];
      const ok = consistent(a.tree_size, b.tree_size, Buffer.from(a.root_hash, "hex"), Buffer.from(b.root_hash, "hex"), p.proof.map((h) => Buffer.from(h, "hex")));
      if (!ok) this.failures.push(`FAIL ${where}: tree ${a.tree_size} is not shown to be a prefix of tree ${b.tree_size}`);
    } else throw new Error(`${file} is not a proof`);
    for (const c of checkpoints) this.wanted.set(`root ${c.tree_size}`, c.root_hash);
  }
}

async function main() {
  let o;
  let verifier;
  try {
    o = options(process.argv.slice(2));
    verifier = new Verifier(o);
    for (const file of o.proofs) verifier.proof(file);
  } catch (error) {
    console.error(`cannot verify: ${error.message}`);
    return 2;
  }
  try {
    const lines = createInterface({ input: createReadStream(o.file, "utf8"), crlfDelay: Infinity });
    for await (const text of lines) verifier.line(text);
  } catch (error) {
    console.error(`cannot read ${o.file}: ${error.message}`);
    return 2;
  }
  const { latest, names } = verifier.finish();
  const v = verifier;
  console.log(
    `${v.tree.size} events in ${v.tips.size} streams (${v.withheld} withheld, ` +
      `${Math.max(0, v.tree.size - latest)} uncovered), ${v.roots.size} checkpoints (latest ${latest}` +
      `${names.length ? `, cosigned by ${names.join(", ")}` : ""}), ${o.proofs.length} proofs`,
  );
  for (const failure of v.failures) console.log(failure);
  console.log(v.failures.length ? `${v.failures.length} failure(s)` : "ok");
  return v.failures.length ? 1 : 0;
}

process.exitCode = await main();
