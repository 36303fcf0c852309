#!/usr/bin/env bun
// Why the Raft log keeps a zero-filled runway (src/storage/runway.ts): the time of a write +
// fdatasync that appends to a file, against one that overwrites zeros already in the file, and
// one into space reserved with fallocate (what etcd's WAL does). Each mode runs `--writers`
// processes at once, as the nodes of a local cluster do, each with its own file.
//   npx bun bench/log_sync.ts [--writers 3] [--syncs 3000] [--bytes 3000] [--dir /tmp]
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { arg } from "./lib/args";
import { quantile } from "./lib/load";

const MODES = ["append", "zero-filled", "fallocate"] as const;
type Mode = (typeof MODES)[number];
const FILE_BYTES = 64 << 20;

async function writer(mode: Mode, dir: string, syncs: number, bytes: number): Promise<void> {
  const file = path.join(dir, `log-sync-${mode}-${process.pid}`);
  const fd = fs.openSync(file, "w+");
  if (mode === "zero-filled") {
    const zeros = new Uint8Array(1 << 20);
    for (let off = 0; off < FILE_BYTES; off += zeros.length) fs.writeSync(fd, zeros, 0, zeros.length, off);
  } else if (mode === "fallocate") {
    Bun.spawnSync(["fallocate", "-l", String(FILE_BYTES), file]);
  }
  fs.fsyncSync(fd);
  const record = new Uint8Array(bytes).fill(7);
  const times: number[] = [];
  for (let i = 0; i < syncs; i++) {
    const t0 = performance.now();
    fs.writeSync(fd, record, 0, record.length, i * bytes);
    await new Promise<void>((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
    times.push(performance.now() - t0);
  }
  fs.closeSync(fd);
  fs.unlinkSync(file);
  process.stdout.write(JSON.stringify(times));
}

async function main(): Promise<void> {
  const writers = Number(arg("writers", "3"));
  const syncs = Number(arg("syncs", "3000"));
  const bytes = Number(arg("bytes", "3000"));
  const dir = arg("dir", os.tmpdir());
  console.log(`${writers} writers at once, ${syncs} × (write ${bytes} bytes + fdatasync) each, in ${dir}`);
  for (const mode of MODES) {
    const children = Array.from({ length: writers }, () =>
      Bun.spawn([process.execPath, import.meta.path, "--child", mode, dir, String(syncs), String(bytes)], { stdout: "pipe" }),
    );
    const outputs = await Promise.all(children.map((c) => new Response(c.stdout).text()));
    const all = outputs.flatMap((o) => JSON.parse(o) as number[]).sort((a, b) => a - b);
    const fmt = (ms: number) => ms.toFixed(3);
    console.log(`${mode.padEnd(12)} write+fdatasync p50 ${fmt(quantile(all, 0.5))} ms, p99 ${fmt(quantile(all, 0.99))} ms`);
  }
}

const child = process.argv.indexOf("--child");
if (child >= 0) {
  const [mode, dir, syncs, bytes] = process.argv.slice(child + 1);
  await writer(mode as Mode, dir, Number(syncs), Number(bytes));
} else {
  await main();
}
