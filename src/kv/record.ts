import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { KeyValue } from "../gen/rbkv/v1/kv_pb";
import { putU64, readU64, viewOf } from "./bytes";

/** What the store keeps per live key (the key itself is in the LevelDB key). */
export interface StoredKv {
  value: Uint8Array;
  createRevision: number;
  modRevision: number;
  version: number;
  /** Absolute expiry in ms since the epoch; 0 = never. */
  expiresAtMs: number;
}

const HEADER = 32;

export function encodeStoredKv(kv: StoredKv): Uint8Array {
  const out = new Uint8Array(HEADER + kv.value.length);
  putU64(out, 0, kv.createRevision);
  putU64(out, 8, kv.modRevision);
  putU64(out, 16, kv.version);
  putU64(out, 24, kv.expiresAtMs);
  out.set(kv.value, HEADER);
  return out;
}

export function decodeStoredKv(bytes: Uint8Array): StoredKv {
  const view = viewOf(bytes);
  return {
    createRevision: readU64(view, 0),
    modRevision: readU64(view, 8),
    version: readU64(view, 16),
    expiresAtMs: readU64(view, 24),
    value: bytes.subarray(HEADER),
  };
}

/** A key past its expiry reads as absent, even before its Expire command is applied. */
export function isExpired(kv: StoredKv, nowMs: number): boolean {
  return kv.expiresAtMs !== 0 && nowMs > 0 && kv.expiresAtMs <= nowMs;
}

export function toKeyValue(key: Uint8Array, kv: StoredKv, keysOnly = false): KeyValue {
  // A literal rather than create(KeyValueSchema, ...): this runs twice per applied write, and the
  // object has every field of the message, so it is exactly what create() would return.
  return {
    $typeName: "rbkv.v1.KeyValue",
    key,
    value: keysOnly ? EMPTY : kv.value,
    createRevision: BigInt(kv.createRevision),
    modRevision: BigInt(kv.modRevision),
    version: BigInt(kv.version),
    expiresAt: kv.expiresAtMs === 0 ? undefined : timestampFromMs(kv.expiresAtMs),
  };
}

const EMPTY = new Uint8Array(0);
