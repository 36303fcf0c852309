// Segment files on disk: naming, listing, opening, and the directory fsync that makes a newly
// created file's name durable.

import * as fs from "node:fs";
import * as path from "node:path";

/** An open segment file. `seq` orders segments; `firstIndex` is informational (see header). */
export interface Segment {
  seq: number;
  firstIndex: number;
  path: string;
  fd: number;
  /** Bytes of valid records; the next write goes here. */
  size: number;
}

const NAME = /^log-(\d{20})-(\d{20})\.seg$/;

export function segmentName(seq: number, firstIndex: number): string {
  return `log-${String(seq).padStart(20, "0")}-${String(firstIndex).padStart(20, "0")}.seg`;
}

/** Segment files in `dir`, oldest first. */
export function listSegmentFiles(dir: string): { seq: number; firstIndex: number; path: string }[] {
  const out: { seq: number; firstIndex: number; path: string }[] = [];
  for (const name of fs.readdirSync(dir)) {
    const m = NAME.exec(name);
    if (m) out.push({ seq: Number(m[1]), firstIndex: Number(m[2]), path: path.join(dir, name) });
  }
  return out.sort((a, b) => a.seq - b.seq);
}

export function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, "r");
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export function fdatasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
}

/** Writes all of `bytes` at `position`. */
export function writeFully(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.length) {
    done += fs.writeSync(fd, bytes, done, bytes.length - done, position + done);
  }
}

/** Reads exactly `length` bytes at `position` (a short read means the file shrank under us). */
export function readFully(fd: number, length: number, position: number, filePath: string): Uint8Array {
  const buf = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, buf, done, length - done, position + done);
    if (n === 0) throw new Error(`${filePath}: unexpected end of file at byte offset ${position + done}`);
    done += n;
  }
  return new Uint8Array(buf.buffer, buf.byteOffset, length);
}
