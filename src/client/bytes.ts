// Keys and values as callers like to write them (strings or bytes), and etcd's range helpers.

/** A key or value: a string (UTF-8) or raw bytes. */
export type BytesLike = string | Uint8Array;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: false });

export function toBytes(value: BytesLike): Uint8Array {
  return typeof value === "string" ? encoder.encode(value) : value;
}

export function toText(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

export { prefixEnd } from "../shared/prefix_end";

/** Lower-case hex, for showing binary values. */
export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
