// snapshot(): the member's state as a stream of chunks, checked against the SHA-256 the server
// sends with the last chunk. The iteration ends normally only when the checksum matches.
import type { SnapshotResponse } from "../gen/rbkv/v1/cluster_pb";
import { bytesEqual, toHex } from "./bytes";
import { SnapshotChecksumError } from "./errors";
import { Sha256 } from "./sha256";

/** Something that hashes a stream with SHA-256 (node:crypto's createHash("sha256") fits). */
export interface Hasher {
  update(data: Uint8Array): unknown;
  digest(): Uint8Array;
}

export interface SnapshotChunk {
  bytes: Uint8Array;
  /** Bytes received so far, this chunk included. */
  receivedBytes: number;
  /** Size of the whole snapshot when the server said (received + remaining); null when unknown. */
  totalBytes: number | null;
  /** The member streaming the snapshot. */
  memberId: string;
}

export const pureHasher = (): Hasher => new Sha256();

export async function* verifiedSnapshot(stream: AsyncIterable<SnapshotResponse>, hasher: Hasher): AsyncGenerator<SnapshotChunk, void, undefined> {
  let received = 0;
  let memberId = "";
  let held: SnapshotChunk | null = null;
  for await (const res of stream) {
    if (res.header?.memberId) memberId = res.header.memberId;
    if (held) yield held;
    hasher.update(res.blob);
    received += res.blob.length;
    const remaining = Number(res.remainingBytes);
    held = { bytes: res.blob, receivedBytes: received, totalBytes: remaining > 0 || res.checksum.length > 0 ? received + remaining : null, memberId };
    if (res.checksum.length > 0) {
      const actual = hasher.digest();
      if (!bytesEqual(actual, res.checksum)) {
        throw new SnapshotChecksumError(`snapshot checksum mismatch: got sha256 ${toHex(actual)}, server sent ${toHex(res.checksum)}; take the snapshot again`);
      }
      yield held;
      return;
    }
  }
  throw new SnapshotChecksumError("the snapshot stream ended without a checksum (cut off?); take the snapshot again");
}
