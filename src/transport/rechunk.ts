// Re-cuts a byte stream into pieces of at most maxBytes (small inputs are coalesced, large ones
// split) and marks the last piece, so a sender knows which chunk ends the stream. Pieces are
// fresh copies: the producer may reuse its buffers once it is asked for the next one.

export interface Piece {
  data: Uint8Array;
  last: boolean;
}

export async function* rechunk(input: AsyncIterable<Uint8Array>, maxBytes: number): AsyncGenerator<Piece> {
  if (!(maxBytes > 0)) throw new Error(`rechunk: maxBytes must be positive, got ${maxBytes}`);
  let acc = new Uint8Array(maxBytes);
  let fill = 0;
  let ready: Uint8Array | null = null;
  for await (const chunk of input) {
    let pos = 0;
    while (pos < chunk.length) {
      const take = Math.min(maxBytes - fill, chunk.length - pos);
      acc.set(chunk.subarray(pos, pos + take), fill);
      fill += take;
      pos += take;
      if (fill === maxBytes) {
        if (ready) yield { data: ready, last: false };
        ready = acc;
        acc = new Uint8Array(maxBytes);
        fill = 0;
      }
    }
  }
  if (fill > 0) {
    if (ready) yield { data: ready, last: false };
    ready = acc.slice(0, fill);
  }
  yield { data: ready ?? new Uint8Array(0), last: true };
}
