// Small byte helpers shared by the key layout and the record codecs.

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Lexicographic byte order (LevelDB's default comparator). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i] - b[i];
  }
  return a.length - b.length;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && compareBytes(a, b) === 0;
}

/** Writes a non-negative integer < 2^53 as 8 big-endian bytes (so byte order is numeric order). */
export function writeU64(view: DataView, offset: number, n: number): void {
  view.setUint32(offset, Math.floor(n / 0x1_0000_0000));
  view.setUint32(offset + 4, n >>> 0);
}

export function readU64(view: DataView, offset: number): number {
  return view.getUint32(offset) * 0x1_0000_0000 + view.getUint32(offset + 4);
}

export function u64Bytes(n: number): Uint8Array {
  const out = new Uint8Array(8);
  putU64(out, 0, n);
  return out;
}

/**
 * writeU64 straight into bytes. On the apply path this beats a DataView: reading `.buffer` of a
 * small new typed array makes JavaScriptCore allocate a separate ArrayBuffer for it.
 */
export function putU64(out: Uint8Array, offset: number, n: number): void {
  const high = Math.floor(n / 0x1_0000_0000);
  const low = n >>> 0;
  out[offset] = high >>> 24;
  out[offset + 1] = (high >>> 16) & 0xff;
  out[offset + 2] = (high >>> 8) & 0xff;
  out[offset + 3] = high & 0xff;
  out[offset + 4] = low >>> 24;
  out[offset + 5] = (low >>> 16) & 0xff;
  out[offset + 6] = (low >>> 8) & 0xff;
  out[offset + 7] = low & 0xff;
}

export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

const latin1Slice = (Buffer.prototype as unknown as { latin1Slice: (this: Uint8Array, start: number, end: number) => string }).latin1Slice;

/** Binary-string form of bytes, usable as a Map key (one char per byte). */
export function mapKey(bytes: Uint8Array): string {
  // Buffer's latin1 decoder accepts any Uint8Array, without wrapping it in a Buffer first.
  return latin1Slice.call(bytes, 0, bytes.length);
}
