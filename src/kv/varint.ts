// Varints for the hand-written protobuf codecs (commands, history records). Values are whole
// numbers below 2^53, so plain numbers suffice.

/** Bytes of a varint. */
export function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/**
 * Reads a varint of at most `maxBytes` bytes at `cursor.pos` (advancing it), stopping at `end`;
 * -1 when it is longer or runs past `end`.
 */
export function readVarint(data: Uint8Array, cursor: { pos: number }, end: number, maxBytes: number): number {
  let n = 0;
  let mul = 1;
  for (let i = 0; i < maxBytes && cursor.pos < end; i++) {
    const b = data[cursor.pos++];
    n += (b & 0x7f) * mul;
    if (b < 0x80) return n;
    mul *= 128;
  }
  return -1;
}
