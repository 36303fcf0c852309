// Raft log write throughput: FileLogStorage against a plain classic-level log (keys = big-endian
// index, one sync:true batch per save). Run: npx bun bench/storage.ts [--ms=500] [--reps=3]
//
// Every save carries a hard state (as the runtime's saves usually do: commit moves), so both sides
// make entries and hard state durable together. A second table measures where hard state should
// live: as a record in the log stream (one fdatasync) or in its own file replaced atomically
// (write temp, fdatasync, rename, fsync dir) after the entries' fdatasync.

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ClassicLevel } from "classic-level";
import { EntryType, type Entry, type HardState } from "../src/raft/types";
import { FileLogStorage } from "../src/storage";
import { fsyncDir } from "../src/storage/segment_files";

const arg = (name: string, dflt: number): number => {
  const a = process.argv.find((s) => s.startsWith(`--${name}=`));
  return a ? Number(a.split("=")[1]) : dflt;
};
const RUN_MS = arg("ms", 500);
const REPS = arg("reps", 3);

interface Sample {
  entriesPerSec: number;
  batchesPerSec: number;
  mbPerSec: number;
}

interface LogWriter {
  write(entries: Entry[], hs: HardState): Promise<void>;
  close(): Promise<void>;
}

function makeEntries(from: number, n: number, size: number): Entry[] {
  const out: Entry[] = [];
  for (let i = 0; i < n; i++) {
    const data = new Uint8Array(size);
    for (let k = 0; k < size; k += 64) data[k] = (from + i + k) & 0xff;
    out.push({ index: from + i, term: 1, type: EntryType.Normal, data });
  }
  return out;
}

async function fileWriter(dir: string): Promise<LogWriter> {
  const s = await FileLogStorage.open(dir);
  return {
    write: (entries, hs) => s.save({ hardState: hs, entries, snapshot: null }),
    close: () => s.close(),
  };
}

/** Hard state in its own file, replaced atomically after the entries are durable. */
async function fileWriterSeparateHardState(dir: string): Promise<LogWriter> {
  const s = await FileLogStorage.open(path.join(dir, "log"));
  const target = path.join(dir, "hardstate");
  const tmp = `${target}.tmp`;
  return {
    async write(entries, hs) {
      await s.save({ hardState: null, entries, snapshot: null });
      const fd = fs.openSync(tmp, "w");
      fs.writeSync(fd, JSON.stringify(hs));
      await new Promise<void>((res, rej) => fs.fdatasync(fd, (e) => (e ? rej(e) : res())));
      fs.closeSync(fd);
      fs.renameSync(tmp, target);
      fsyncDir(dir);
    },
    close: () => s.close(),
  };
}

async function levelWriter(dir: string): Promise<LogWriter> {
  const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: "view", valueEncoding: "view" });
  await db.open();
  const hardStateKey = new Uint8Array([0xff]);
  const key = (index: number): Uint8Array => {
    const k = new Uint8Array(8);
    new DataView(k.buffer).setBigUint64(0, BigInt(index));
    return k;
  };
  return {
    async write(entries, hs) {
      const ops: { type: "put"; key: Uint8Array; value: Uint8Array }[] = entries.map((e) => {
        const v = new Uint8Array(9 + e.data.length);
        new DataView(v.buffer).setFloat64(0, e.term);
        v[8] = e.type;
        v.set(e.data, 9);
        return { type: "put", key: key(e.index), value: v };
      });
      ops.push({ type: "put", key: hardStateKey, value: new TextEncoder().encode(JSON.stringify(hs)) });
      await db.batch(ops, { sync: true });
    },
    close: () => db.close(),
  };
}

async function measure(open: (dir: string) => Promise<LogWriter>, batch: number, size: number): Promise<Sample> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rbkv-bench-"));
  try {
    const w = await open(dir);
    // Pre-build the batches so the clock measures storage, not entry construction.
    const pool = Array.from({ length: 64 }, (_, i) => makeEntries(1 + i * batch, batch, size));
    let next = 1;
    let batches = 0;
    const start = performance.now();
    let now = start;
    while (now - start < RUN_MS) {
      const template = pool[batches % pool.length];
      const entries = template.map((e, i) => ({ ...e, index: next + i }));
      await w.write(entries, { term: 1, vote: "n1", commit: next });
      next += batch;
      batches++;
      now = performance.now();
    }
    const secs = (now - start) / 1000;
    await w.close();
    return { entriesPerSec: (batches * batch) / secs, batchesPerSec: batches / secs, mbPerSec: (batches * batch * size) / secs / 1e6 };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function stat(xs: number[], digits: number): string {
  const s = [...xs].sort((a, b) => a - b);
  const f = (x: number) => x.toFixed(digits);
  return `${f(s[Math.floor(s.length / 2)])} (${f(s[0])}-${f(s[s.length - 1])})`;
}

async function table(title: string, impls: [string, (dir: string) => Promise<LogWriter>][], configs: [number, number][]): Promise<void> {
  console.log(`\n${title}  (median (min-max) of ${REPS} runs x ${RUN_MS} ms)`);
  console.log(["impl".padEnd(22), "batch".padStart(5), "size".padStart(6), "entries/s".padStart(24), "fsyncs/s".padStart(22), "MB/s".padStart(20)].join(" "));
  for (const [batch, size] of configs) {
    // Alternate the implementations run by run, so load from other processes hits both alike.
    const samplesByImpl = impls.map((): Sample[] => []);
    for (let r = 0; r < REPS; r++) {
      for (let k = 0; k < impls.length; k++) samplesByImpl[k].push(await measure(impls[k][1], batch, size));
    }
    for (const [k, [name]] of impls.entries()) {
      const samples = samplesByImpl[k];
      console.log(
        [
          name.padEnd(22),
          String(batch).padStart(5),
          String(size).padStart(6),
          stat(samples.map((s) => s.entriesPerSec), 0).padStart(24),
          stat(samples.map((s) => s.batchesPerSec), 0).padStart(22),
          stat(samples.map((s) => s.mbPerSec), 2).padStart(20),
        ].join(" "),
      );
    }
  }
}

async function readBench(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rbkv-bench-"));
  try {
    const s = await FileLogStorage.open(dir, { cacheBytes: 0 });
    const n = 20_000;
    for (let i = 1; i <= n; i += 500) await s.save({ hardState: null, entries: makeEntries(i, 500, 1024), snapshot: null });
    const times: number[] = [];
    for (let r = 0; r < REPS; r++) {
      const start = performance.now();
      let read = 0;
      for (let lo = 1; lo <= n; ) {
        const got = s.entries(lo, n + 1, 1 << 20);
        read += got.length;
        lo += got.length;
      }
      times.push(read / ((performance.now() - start) / 1000));
    }
    console.log(`\nentries() from disk (page cache), 1 KiB entries, 1 MiB per call: ${stat(times, 0)} entries/s`);
    await s.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const configs: [number, number][] = [];
for (const size of [128, 1024]) for (const batch of [1, 16, 128]) configs.push([batch, size]);

console.log(`rbkv storage bench: ${os.cpus().length} cpus, bun ${Bun.version}, tmpdir ${os.tmpdir()}`);
await table("Log writes: one save (entries + hard state) = one batch = one fsync", [
  ["FileLogStorage", fileWriter],
  ["classic-level sync", levelWriter],
], configs);
await table("Where hard state lives (FileLogStorage)", [
  ["hs record in stream", fileWriter],
  ["hs file tmp+rename", fileWriterSeparateHardState],
], [[1, 128], [16, 128]]);
await readBench();
