#!/usr/bin/env bun
// `bun run cluster`: a local 3-node cluster in one terminal, each node's lines prefixed with its
// name; Ctrl-C stops all three. Data under ./data/cluster (kept between runs).
import { LocalCluster, LocalNode } from "./local_cluster";

const size = Number(process.env.RBKV_CLUSTER_SIZE ?? 3);
const basePort = Number(process.env.RBKV_CLUSTER_BASE_PORT ?? 9501);
const baseDir = process.env.RBKV_CLUSTER_DIR ?? "./data/cluster";

const cluster = new LocalCluster(
  Array.from({ length: size }, (_, i) =>
    new LocalNode({ name: `node${i + 1}`, grpcPort: basePort + i, raftPort: basePort + 100 + i, dataDir: `${baseDir}/node${i + 1}` }, "localhost", process.argv.slice(2), "inherit-prefixed"),
  ),
  { size, baseDir },
);

const { existsSync } = await import("node:fs");
const firstStart = !existsSync(`${baseDir}/node1/raft`);
if (firstStart) {
  await cluster.bootstrap();
} else {
  for (const n of cluster.nodes) n.start();
  await Promise.all(cluster.nodes.map((n) => n.waitReady()));
}
console.log(`\nrbkv cluster up: ${cluster.nodes.map((n) => n.grpcAddr).join(", ")}. Try:\n  curl -s -X POST -H 'content-type: application/json' http://${cluster.nodes[0].grpcAddr}/rbkv.v1.KV/Put -d '{"key":"aGVsbG8=","value":"d29ybGQ="}'\nCtrl-C stops all nodes.\n`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await cluster.stopAll("SIGTERM");
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
