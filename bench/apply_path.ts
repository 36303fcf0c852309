// The state machine alone: applying put entries to LevelDB in batches, as a follower does.
// `npx bun bench/apply_path.ts [batch] [entries]` prints µs of CPU per applied put (median of 3).
import { create } from "@bufbuild/protobuf";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutRequestSchema } from "../src/gen/rbkv/v1/kv_pb";
import { encodeCommand, putCommand } from "../src/kv/commands";
import { KvStore } from "../src/kv/store";
import { EntryType, type Entry } from "../src/raft/types";

const batch = Number(process.argv[2] ?? 12);
const count = Number(process.argv[3] ?? 30_000);
const value = new Uint8Array(256).fill(7);
const results: number[] = [];
for (let rep = 0; rep < 3; rep++) {
  const dir = await mkdtemp(join(tmpdir(), "apply-bench-"));
  const kv = await KvStore.open(dir);
  const entries: Entry[] = Array.from({ length: count }, (_, i) => ({
    term: 1,
    index: i + 1,
    type: EntryType.Normal,
    data: encodeCommand(putCommand(create(PutRequestSchema, { key: new TextEncoder().encode(`k${i % 4096}`), value }), 0)),
  }));
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < count; i += batch) await kv.applyEntries(entries.slice(i, i + batch));
  const cpu = process.cpuUsage(cpu0);
  results.push((cpu.user + cpu.system) / count);
  await kv.close();
  await rm(dir, { recursive: true, force: true });
}
results.sort((a, b) => a - b);
console.log(`batch ${batch}: ${results[1].toFixed(1)} µs CPU per applied put (range ${results[0].toFixed(1)}-${results[2].toFixed(1)})`);
