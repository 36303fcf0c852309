import { createHash, type Hash } from "node:crypto";
import type { SnapshotMeta } from "../raft/types";
import { concatBytes } from "./bytes";
import { type Membership, membershipFromJson, membershipToJson } from "./membership";

// The snapshot stream: every LevelDB key/value of the store (data, meta, history, expiry index),
// framed so it can be cut into chunks anywhere and checked at the end:
//   magic "RBKVSNP1" | u32 headerLength | header JSON
//   { u32 keyLength (> 0) | u32 valueLength | key | value }*
//   u32 0 (end marker) | SHA-256 of every byte before it (32 bytes)

const MAGIC = new TextEncoder().encode("RBKVSNP1");
const DIGEST_BYTES = 32;
const MAX_HEADER_BYTES = 16 << 20;
const MAX_RECORD_BYTES = 256 << 20;

/** The Raft snapshot meta plus what the store needs to describe itself. */
export interface KvSnapshotMeta extends SnapshotMeta {
  revision: number;
  contexts: Membership["contexts"];
}

interface HeaderJson {
  index: number;
  term: number;
  revision: number;
  membership: ReturnType<typeof membershipToJson>;
}

export function encodeHeader(meta: KvSnapshotMeta): Uint8Array {
  const json: HeaderJson = {
    index: meta.index,
    term: meta.term,
    revision: meta.revision,
    membership: membershipToJson({ conf: meta.conf, contexts: meta.contexts }),
  };
  const body = new TextEncoder().encode(JSON.stringify(json));
  const length = new Uint8Array(4);
  new DataView(length.buffer).setUint32(0, body.length);
  return concatBytes(MAGIC, length, body);
}

export function encodeRecord(key: Uint8Array, value: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + key.length + value.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, key.length);
  view.setUint32(4, value.length);
  out.set(key, 8);
  out.set(value, 8 + key.length);
  return out;
}

export const END_MARKER = new Uint8Array(4);

export class SnapshotFormatError extends Error {
  override name = "SnapshotFormatError";
}

/**
 * The meta from the start of a snapshot stream, or undefined if `prefix` is too short to hold the
 * whole header yet. Throws SnapshotFormatError if it is not a snapshot stream.
 */
export function readSnapshotMeta(prefix: Uint8Array): KvSnapshotMeta | undefined {
  const parsed = parseHeader(prefix);
  return parsed?.meta;
}

function parseHeader(buf: Uint8Array): { meta: KvSnapshotMeta; length: number } | undefined {
  const head = Math.min(buf.length, MAGIC.length);
  for (let i = 0; i < head; i++) if (buf[i] !== MAGIC[i]) throw new SnapshotFormatError("not an rbkv snapshot stream");
  if (buf.length < MAGIC.length + 4) return undefined;
  const bodyLength = new DataView(buf.buffer, buf.byteOffset).getUint32(MAGIC.length);
  if (bodyLength > MAX_HEADER_BYTES) throw new SnapshotFormatError("snapshot header too large");
  const end = MAGIC.length + 4 + bodyLength;
  if (buf.length < end) return undefined;
  let json: HeaderJson;
  try {
    json = JSON.parse(new TextDecoder().decode(buf.subarray(MAGIC.length + 4, end))) as HeaderJson;
  } catch {
    throw new SnapshotFormatError("snapshot header is not valid JSON");
  }
  const membership = membershipFromJson(json.membership);
  return {
    meta: { index: json.index, term: json.term, revision: json.revision, conf: membership.conf, contexts: membership.contexts },
    length: end,
  };
}

/**
 * Incremental parser: feed() chunks as they arrive and get back the records they complete.
 * finish() checks that the stream ended exactly after a valid checksum.
 */
export class SnapshotParser {
  private buf: Uint8Array = new Uint8Array(0);
  private readonly hash: Hash = createHash("sha256");
  private state: "header" | "records" | "digest" | "done" = "header";
  meta: KvSnapshotMeta | undefined;

  feed(chunk: Uint8Array): [Uint8Array, Uint8Array][] {
    this.buf = this.buf.length === 0 ? chunk : concatBytes(this.buf, chunk);
    const records: [Uint8Array, Uint8Array][] = [];
    let pos = 0;
    for (;;) {
      const rest = this.buf.subarray(pos);
      if (this.state === "header") {
        const parsed = parseHeader(rest);
        if (!parsed) break;
        this.meta = parsed.meta;
        this.consume(rest.subarray(0, parsed.length));
        pos += parsed.length;
        this.state = "records";
      } else if (this.state === "records") {
        if (rest.length < 4) break;
        const view = new DataView(rest.buffer, rest.byteOffset, rest.byteLength);
        const keyLength = view.getUint32(0);
        if (keyLength === 0) {
          this.consume(rest.subarray(0, 4));
          pos += 4;
          this.state = "digest";
          continue;
        }
        if (rest.length < 8) break;
        const valueLength = view.getUint32(4);
        if (keyLength + valueLength > MAX_RECORD_BYTES) throw new SnapshotFormatError("snapshot record too large");
        const total = 8 + keyLength + valueLength;
        if (rest.length < total) break;
        this.consume(rest.subarray(0, total));
        records.push([rest.slice(8, 8 + keyLength), rest.slice(8 + keyLength, total)]);
        pos += total;
      } else if (this.state === "digest") {
        if (rest.length < DIGEST_BYTES) break;
        const expected = this.hash.digest();
        if (!expected.equals(rest.subarray(0, DIGEST_BYTES))) throw new SnapshotFormatError("snapshot checksum mismatch");
        pos += DIGEST_BYTES;
        this.state = "done";
      } else {
        if (rest.length > 0) throw new SnapshotFormatError("bytes after the end of the snapshot");
        break;
      }
    }
    this.buf = this.buf.subarray(pos);
    return records;
  }

  finish(): KvSnapshotMeta {
    if (this.state !== "done" || !this.meta) throw new SnapshotFormatError("snapshot stream ended early");
    return this.meta;
  }

  private consume(bytes: Uint8Array): void {
    this.hash.update(bytes);
  }
}
