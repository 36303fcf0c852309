import { concatBytes, putU64, readU64, u64Bytes, viewOf } from "./bytes";

// LevelDB key layout. One leading byte separates the key spaces, so a scan bounded to one prefix
// never sees another space:
//   "d" userKey                    -> StoredKv record (value and revision bookkeeping)
//   "h" revision(8)                -> events up to that revision since the previous record (watch history)
//   "m" name                       -> store meta (applied index and term, revision, conf, ...)
//   "x" expiresAtMs(8) userKey     -> modRevision(8): the expiry index, oldest expiry first
// Numbers are 8 big-endian bytes so byte order is numeric order.

const DATA = 0x64; // "d"
const HISTORY = 0x68; // "h"
const META = 0x6d; // "m"
const EXPIRY = 0x78; // "x"

export const DATA_START = Uint8Array.of(DATA);
export const DATA_END = Uint8Array.of(DATA + 1);
export const HISTORY_START = Uint8Array.of(HISTORY);
export const HISTORY_END = Uint8Array.of(HISTORY + 1);
export const EXPIRY_START = Uint8Array.of(EXPIRY);

export function dataKey(userKey: Uint8Array): Uint8Array {
  const out = new Uint8Array(userKey.length + 1);
  out[0] = DATA;
  out.set(userKey, 1);
  return out;
}

export function userKeyOf(dataKeyBytes: Uint8Array): Uint8Array {
  return dataKeyBytes.subarray(1);
}

export function historyKey(revision: number): Uint8Array {
  const out = new Uint8Array(9);
  out[0] = HISTORY;
  putU64(out, 1, revision);
  return out;
}

/** The revision a history key names (the last revision its record holds). */
export function historyKeyRevision(key: Uint8Array): number {
  return readU64(viewOf(key), 1);
}

export function expiryKey(expiresAtMs: number, userKey: Uint8Array): Uint8Array {
  return concatBytes(EXPIRY_START, u64Bytes(expiresAtMs), userKey);
}

export function parseExpiryKey(key: Uint8Array): { expiresAtMs: number; userKey: Uint8Array } {
  return { expiresAtMs: readU64(viewOf(key), 1), userKey: key.subarray(9) };
}

/** First expiry-index key with an expiry strictly after `ms`. */
export function expiryKeyAfter(ms: number): Uint8Array {
  return concatBytes(EXPIRY_START, u64Bytes(ms + 1));
}

const encoder = new TextEncoder();
const metaKey = (name: string) => concatBytes(Uint8Array.of(META), encoder.encode(name));

export const META_APPLIED = metaKey("applied"); // index(8) term(8)
export const META_REVISION = metaKey("revision"); // revision(8)
export const META_HISTORY_FIRST = metaKey("history-first"); // first retained history revision(8)
export const META_MEMBERSHIP = metaKey("membership"); // JSON, see membership.ts
