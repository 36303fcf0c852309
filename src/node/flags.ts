import { DEFAULT_LIMITS } from "./api";
import { DEFAULT_NODE_CONFIG, type NodeConfig } from "./config";

interface FlagSpec {
  name: string;
  help: string;
  default?: string;
  apply(config: MutableConfig, value: string): void;
}

type MutableConfig = { -readonly [K in keyof NodeConfig]: NodeConfig[K] };

const int = (name: string, min = 1) => (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new FlagError(`--${name} must be a whole number >= ${min}, got "${v}"`);
  return n;
};

export class FlagError extends Error {}

const FLAGS: FlagSpec[] = [
  { name: "grpc-addr", help: "host:port for clients (gRPC, gRPC-Web, Connect; HTTP/1.1 and h2c)", default: "localhost:9501", apply: (c, v) => (c.grpcAddr = v) },
  { name: "raft-addr", help: "host:port for Raft traffic from the other members", default: "localhost:9601", apply: (c, v) => (c.raftAddr = v) },
  { name: "raft-advertise-addr", help: "Raft address the other members dial, if not --raft-addr (e.g. behind a proxy)", apply: (c, v) => (c.raftAdvertiseAddr = v) },
  { name: "join-addr", help: "client address of any member of an existing cluster to join (first start only)", apply: (c, v) => (c.joinAddr = v || null) },
  { name: "log-dir", help: "folder for the Raft log (subfolder raft/)", default: "./data", apply: (c, v) => (c.logDir = v) },
  { name: "kv-dir", help: "folder for the key-value data (subfolder kv/); may equal --log-dir", default: "./data", apply: (c, v) => (c.kvDir = v) },
  { name: "id", help: "member id (default: the --grpc-addr)", apply: (c, v) => (c.id = v) },
  { name: "tick-ms", help: "milliseconds per Raft tick", default: String(DEFAULT_NODE_CONFIG.tickMs), apply: (c, v) => (c.tickMs = int("tick-ms")(v)) },
  { name: "election-ticks", help: "ticks without a leader before an election (randomized up to 2x)", default: String(DEFAULT_NODE_CONFIG.electionTicks), apply: (c, v) => (c.electionTicks = int("election-ticks", 2)(v)) },
  { name: "heartbeat-ticks", help: "ticks between leader heartbeats", default: String(DEFAULT_NODE_CONFIG.heartbeatTicks), apply: (c, v) => (c.heartbeatTicks = int("heartbeat-ticks")(v)) },
  { name: "snapshot-entries", help: "compact the Raft log every this many applied entries", default: String(DEFAULT_NODE_CONFIG.snapshotEntries), apply: (c, v) => (c.snapshotEntries = int("snapshot-entries")(v)) },
  { name: "retain-entries", help: "entries kept behind the compaction point for slow followers", default: String(DEFAULT_NODE_CONFIG.retainEntries), apply: (c, v) => (c.retainEntries = int("retain-entries", 0)(v)) },
  { name: "history-revisions", help: "revisions of watch history kept (at least this many; older ones are deleted in steps of 1/16 of it, at most 1,024)", default: String(DEFAULT_NODE_CONFIG.historyRevisions), apply: (c, v) => (c.historyRevisions = int("history-revisions")(v)) },
  { name: "request-timeout-ms", help: "how long a request may wait for Raft before DEADLINE_EXCEEDED", default: String(DEFAULT_NODE_CONFIG.requestTimeoutMs), apply: (c, v) => (c.requestTimeoutMs = int("request-timeout-ms")(v)) },
  { name: "leader-wait-ms", help: "how long a write waits for a leader during an election", default: String(DEFAULT_NODE_CONFIG.leaderWaitMs), apply: (c, v) => (c.leaderWaitMs = int("leader-wait-ms")(v)) },
  { name: "max-key-bytes", help: "largest key accepted", default: String(DEFAULT_LIMITS.maxKeyBytes), apply: (c, v) => (c.limits = { ...c.limits, maxKeyBytes: int("max-key-bytes")(v) }) },
  { name: "max-value-bytes", help: "largest value accepted", default: String(DEFAULT_LIMITS.maxValueBytes), apply: (c, v) => (c.limits = { ...c.limits, maxValueBytes: int("max-value-bytes")(v) }) },
  { name: "max-request-bytes", help: "largest request accepted", default: String(DEFAULT_LIMITS.maxRequestBytes), apply: (c, v) => (c.limits = { ...c.limits, maxRequestBytes: int("max-request-bytes")(v) }) },
  { name: "max-txn-ops", help: "most operations in one transaction", default: String(DEFAULT_LIMITS.maxTxnOps), apply: (c, v) => (c.limits = { ...c.limits, maxTxnOps: int("max-txn-ops")(v) }) },
  { name: "restore", help: "backup file (from Cluster.Snapshot / rbkv snapshot save) to restore into a new one-node cluster; empty dirs only", apply: (c, v) => (c.restoreFrom = v || null) },
  { name: "memory-soft-limit-mb", help: "resident memory above which the node runs a full garbage collection (at most twice a second); 0: never", default: String(DEFAULT_NODE_CONFIG.memorySoftLimitMb), apply: (c, v) => (c.memorySoftLimitMb = int("memory-soft-limit-mb", 0)(v)) },
  { name: "quiet", help: "log only warnings and errors", apply: (c, v) => (c.quiet = v !== "false") },
];

/** Parses `--name=value` and `--name value` flags into a node config. Throws FlagError. */
export function parseNodeFlags(argv: string[]): NodeConfig | "help" {
  const config = { ...DEFAULT_NODE_CONFIG, id: "", grpcAddr: "", raftAddr: "", raftAdvertiseAddr: "", logDir: "", kvDir: "" } as MutableConfig;
  for (const f of FLAGS) if (f.default !== undefined) f.apply(config, f.default);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--help" || arg === "-h") return "help";
    if (!arg.startsWith("--")) throw new FlagError(`unexpected argument "${arg}" (flags look like --name=value; see --help)`);
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const spec = FLAGS.find((f) => f.name === name);
    if (!spec) throw new FlagError(`unknown flag --${name} (see --help)`);
    let value: string;
    if (eq >= 0) value = arg.slice(eq + 1);
    else if (name === "quiet") value = "true";
    else {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith("--")) throw new FlagError(`--${name} needs a value`);
      value = next;
      i++;
    }
    spec.apply(config, value);
  }
  if (!config.id) config.id = config.grpcAddr;
  if (!config.raftAdvertiseAddr) config.raftAdvertiseAddr = config.raftAddr;
  if (config.heartbeatTicks >= config.electionTicks) throw new FlagError("--heartbeat-ticks must be smaller than --election-ticks");
  return config;
}

export function nodeFlagsHelp(): string {
  const lines = FLAGS.map((f) => `  --${f.name.padEnd(20)} ${f.help}${f.default !== undefined ? ` (default ${f.default})` : ""}`);
  return ["Flags for a node (bun run src/main.ts [serve] [flags]):", ...lines].join("\n");
}
