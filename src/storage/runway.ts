// Zero-filled, already-durable space ahead of the active segment's write position.
//
// An append that grows a file makes its fdatasync commit the file system's journal too (new size,
// new blocks); a write into blocks that already exist and lie within the file's size needs only
// the data flushed. On ext4 with three nodes syncing at once that cuts the fdatasync time by a
// third or more (`bench/log_sync.ts`; bench/README.md, fifth session). So the log keeps a runway
// of zeros, written and synced in the background a piece at a time, ahead of where its writes
// land, and recovery reads a run of zeros after the last record as the end of a segment.
import * as fs from "node:fs";
import { fdatasync, writeFully, type Segment } from "./segment_files";

export interface RunwayOptions {
  /** Zeros kept ahead of the write position; 0 turns the runway off (writes append). */
  targetBytes: number;
  /** No runway past this file offset (the segment rolls over there). */
  limitBytes: number;
  /** Called when a background extension fails; the log goes on appending. */
  onError: (err: Error) => void;
}

const PIECE_BYTES = 1 << 20;
const LEAD_BYTES = 64 << 10;
let zeros: Uint8Array | null = null;

export class Runway {
  /** The segment the runway belongs to (the active one), and where its durable zeros end. */
  private segment: Segment | null = null;
  private zeroedTo = 0;
  /** The background extension (a loop of pieces) and the piece it is zeroing now. */
  private extension: Promise<void> | null = null;
  private piece: { from: number; done: Promise<void> } | null = null;
  private failed = false;

  constructor(private readonly opts: RunwayOptions) {}

  /** Writes `bytes` at the end of `segment` and makes them durable (write, then fdatasync). */
  async append(segment: Segment, bytes: Uint8Array): Promise<void> {
    if (segment !== this.segment) {
      await this.settle();
      this.segment = segment;
      this.zeroedTo = segment.size;
      this.failed = false;
    }
    const end = segment.size + bytes.length;
    // A write reaching the piece being zeroed waits for it, so the zeros never land on records.
    // (The next piece starts at or after the end of the zeroed space, past this write.)
    while (this.piece && end > this.piece.from) await this.piece.done.catch(() => {});
    writeFully(segment.fd, bytes, segment.size);
    await fdatasync(segment.fd);
    segment.size = end;
    this.maybeExtend();
  }

  /** Waits for the background extension in flight, if any: call before closing or leaving its segment. */
  async settle(): Promise<void> {
    while (this.extension) await this.extension;
  }

  private maybeExtend(): void {
    const s = this.segment;
    if (!s || this.extension || this.failed || this.opts.targetBytes <= 0) return;
    if (this.zeroedTo - s.size >= this.opts.targetBytes / 2 || this.zeroedTo >= this.opts.limitBytes) return;
    this.extension = this.extend(s)
      .catch((err) => {
        this.failed = true;
        this.opts.onError(err as Error);
      })
      .finally(() => {
        this.extension = null;
      });
  }

  private async extend(s: Segment): Promise<void> {
    const length = Math.min(PIECE_BYTES, this.opts.targetBytes);
    // With no runway left (a new or reopened segment) the first piece starts a little ahead, so
    // the writes that come meanwhile land before it instead of waiting for it.
    const lead = Math.min(LEAD_BYTES, length);
    try {
      while (this.segment === s && this.zeroedTo - s.size < this.opts.targetBytes && this.zeroedTo < this.opts.limitBytes) {
        const from = Math.max(this.zeroedTo, s.size + lead);
        zeros ??= new Uint8Array(PIECE_BYTES);
        const done = writeAllAsync(s.fd, zeros.subarray(0, length), from).then(() => fdatasync(s.fd));
        this.piece = { from, done };
        await done;
        this.zeroedTo = from + length;
      }
    } finally {
      this.piece = null;
    }
  }
}

async function writeAllAsync(fd: number, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    done += await new Promise<number>((resolve, reject) =>
      fs.write(fd, bytes, done, bytes.length - done, position + done, (err, n) => (err ? reject(err) : resolve(n))),
    );
  }
}
