import { create, toBinary } from "@bufbuild/protobuf";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Consistency, GetRequestSchema, PutRequestSchema, WatchRequestSchema } from "../../src/gen/rbkv/v1/kv_pb";
import { LocalCluster } from "../../src/devtools/local_cluster";
import { decodeFields } from "./proto_lite";
import { prefixEnd, type BenchTarget } from "./target";

/** rbkv: a fresh local 3-node cluster, or the given endpoints. */
export async function rbkvTarget(endpoints: string[] | null, size = 3): Promise<BenchTarget> {
  let cluster: LocalCluster | null = null;
  let dir: string | null = null;
  if (!endpoints) {
    dir = await mkdtemp(join(tmpdir(), "rbkv-bench-"));
    cluster = await LocalCluster.create({ size, baseDir: dir, flags: ["--quiet"], output: nodeOutput() });
    try {
      await cluster.bootstrap();
    } catch (err) {
      // Do not leave half a cluster running behind a failed start.
      await cluster.stopAll("SIGKILL");
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    endpoints = cluster.nodes.map((n) => n.grpcAddr);
  }
  const eps = endpoints;
  return {
    name: "rbkv",
    endpoints: eps,
    async leader() {
      for (const ep of eps) {
        try {
          const res = await fetch(`http://${ep}/rbkv.v1.Cluster/MemberList`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
          const body = (await res.json()) as { members?: { grpcAddr: string; isLeader?: boolean }[] };
          const leader = body.members?.find((m) => m.isLeader);
          if (leader) return leader.grpcAddr;
        } catch {
          // next endpoint
        }
      }
      throw new Error("rbkv: no leader found");
    },
    put: (key, value) => ({ path: "/rbkv.v1.KV/Put", body: toBinary(PutRequestSchema, create(PutRequestSchema, { key, value })) }),
    get: (key, serializable) => ({
      path: "/rbkv.v1.KV/Get",
      body: toBinary(GetRequestSchema, create(GetRequestSchema, { key, consistency: serializable ? Consistency.SERIALIZABLE : Consistency.LINEARIZABLE })),
    }),
    watch: (prefix) => ({ path: "/rbkv.v1.KV/Watch", body: toBinary(WatchRequestSchema, create(WatchRequestSchema, { key: prefix, rangeEnd: prefixEnd(prefix) })), keepOpen: false }),
    countEvents: (m) => decodeFields(m).get(2)?.length ?? 0,
    serverPids: () => (cluster ? cluster.nodes.map((n) => n.process?.pid ?? 0).filter((p) => p > 0) : []),
    async stop() {
      if (cluster) await cluster.stopAll();
      if (dir) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** RBKV_NODE_OUTPUT=inherit-prefixed shows the nodes' output (e.g. with BUN_JSC_logGC=1). */
export function nodeOutput(): "inherit-prefixed" | "quiet" {
  return process.env.RBKV_NODE_OUTPUT === "inherit-prefixed" ? "inherit-prefixed" : "quiet";
}
