// Puts through the node runtime in-process (Raft core + log storage + LevelDB apply) with no RPC
// layer: what one node can do before Connect is involved. `npx bun bench/core_path.ts [clients]`
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { PutRequestSchema } from "../src/gen/rbkv/v1/kv_pb";
import { encodeCommand, putCommand } from "../src/kv/commands";
import { KvStore } from "../src/kv/store";
import { FileLogStorage } from "../src/storage";
import { RaftNode } from "../src/node/raft_node";
import { encodeConfChange } from "../src/raft/confchange";
import { DEFAULT_NODE_CONFIG } from "../src/node/config";

const dir = await mkdtemp(join(tmpdir(), "pathbench-"));
let storage = await FileLogStorage.open(join(dir, "raft"));
await storage.save({ hardState: { term: 1, vote: "", commit: 1 }, entries: [{ term: 1, index: 1, type: 1, data: encodeConfChange({ change: { kind: "addVoter", node: "a", context: new Uint8Array() }, conf: { voters: ["a"], learners: [] } }) }], snapshot: null });
await storage.close();
storage = await FileLogStorage.open(join(dir, "raft"));
const kv = await KvStore.open(join(dir, "kv"));
const cfg = { ...DEFAULT_NODE_CONFIG, id: "a", grpcAddr: "x", raftAddr: "y", raftAdvertiseAddr: "y", logDir: dir, kvDir: dir };
const node = new RaftNode(cfg, storage, kv, () => {});
node.setLink({ send() {}, async sendSnapshot() { return false; }, setPeer() {} });
node.start();
while (!node.isLeader()) await new Promise((r) => setTimeout(r, 10));
const value = new Uint8Array(256).fill(1);
const N = 20000, C = Number(process.argv[2] ?? 64);
let done = 0;
const t0 = performance.now();
const cpu0 = process.cpuUsage();
await Promise.all(Array.from({ length: C }, async (_, w) => {
  for (let i = w; i < N; i += C) {
    const req = create(PutRequestSchema, { key: new TextEncoder().encode(`k${i % 4096}`), value });
    await node.propose(encodeCommand(putCommand(req, Date.now())), undefined);
    done++;
  }
}));
const secs = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
console.log(`C=${C}: ${Math.round(done / secs)} puts/s, cpu ${((cpu.user + cpu.system) / 1e6 / secs).toFixed(2)} cores, ${((cpu.user + cpu.system) / done).toFixed(0)} us/put`);
process.exit(0);
