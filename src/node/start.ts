import { mkdir, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { createReadStream, existsSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { encodeConfChange } from "../raft/confchange";
import { EntryType, type Entry } from "../raft/types";
import { KvStore } from "../kv/store";
import { FileLogStorage } from "../storage";
import { PeerTransport } from "../transport";
import { startServer, type RunningServer } from "../server";
import { dashboardPage } from "../dashboard/page";
import { encodeMemberAddress, type NodeConfig } from "./config";
import { NodeClusterApi } from "./cluster_api";
import { LeaderForwarder } from "./forward";
import { NodeKvApi, responseHeader } from "./kv_api";
import { RaftNode, type Logger } from "./raft_node";
import { WatchHub } from "./watch_hub";
import { ExpirySweeper } from "./expiry_sweeper";
import { MemoryGovernor } from "./memory_governor";
import { joinCluster } from "./join";

export const VERSION = "0.1.0";

export interface RunningNode {
  config: NodeConfig;
  node: RaftNode;
  grpcPort: number;
  raftAddr: string;
  /** Stop accepting, finish what is in flight, flush, close. */
  stop(): Promise<void>;
}

/** Opens the stores, bootstraps or joins if they are empty, and starts serving. */
export async function startNode(config: NodeConfig, log: Logger): Promise<RunningNode> {
  const raftDir = `${config.logDir}/raft`;
  const kvDir = `${config.kvDir}/kv`;
  await mkdir(raftDir, { recursive: true });
  await mkdir(config.kvDir, { recursive: true });
  // Snapshots half received (or never installed) before a restart are of no use now.
  for (const name of await readdir(config.kvDir)) {
    if (name.startsWith("kv-staging-") || name === "kv-restore") await rm(`${config.kvDir}/${name}`, { recursive: true, force: true });
  }
  const openLog = () => FileLogStorage.open(raftDir, { logger: (m) => log(`storage: ${m}`) });
  let storage = await openLog();
  const kv = await KvStore.open(kvDir, { historyRevisions: config.historyRevisions });
  const fresh = storage.lastIndex() === 0 && storage.hardState().term === 0 && kv.appliedIndex() === 0;
  const clusterIdFile = `${config.logDir}/cluster-id`;

  if (fresh && config.restoreFrom) {
    await restoreBackup(config, storage, kv, log);
    await writeFile(clusterIdFile, randomBytes(8).readBigUInt64BE().toString());
  } else if (fresh && !config.joinAddr) {
    await bootstrap(config, storage, 0, 0);
    await writeFile(clusterIdFile, randomBytes(8).readBigUInt64BE().toString());
    log(`bootstrapped a new cluster with ${config.id} as its only member`);
  } else if (kv.appliedIndex() > storage.lastIndex() || (kv.appliedIndex() > 0 && kv.appliedIndex() >= storage.firstIndex() && storage.term(kv.appliedIndex()) !== kv.appliedTerm())) {
    // A snapshot was installed into the store but the log reset did not reach the disk.
    const meta = kv.snapshotMeta();
    await storage.save({ hardState: null, entries: [], snapshot: { index: meta.index, term: meta.term, conf: meta.conf } });
    log(`log reset to the installed snapshot at ${meta.index}`);
  }
  // Reopen so the log's initial state includes what was just written.
  await storage.close();
  storage = await openLog();
  let clusterId = existsSync(clusterIdFile) ? BigInt((await readFile(clusterIdFile, "utf8")).trim() || "0") : 0n;

  const node = new RaftNode(config, storage, kv, log);
  const forwarder = new LeaderForwarder(kv, config.requestTimeoutMs);
  const header = responseHeader(node, () => clusterId);
  const watches = new WatchHub(kv, header, (l) => node.onSoftState(l), () => node.currentSoftState().leader !== null);
  const kvApi = new NodeKvApi(node, forwarder, watches, header);
  const clusterApi = new NodeClusterApi(node, forwarder, header, VERSION, config.tickMs * config.electionTicks);

  const transport = await PeerTransport.listen({
    id: config.id,
    listenAddr: config.raftAddr,
    handler: {
      onMessages: (msgs) => node.receive(msgs),
      onSnapshot: (from, term, chunks) => node.receiveSnapshot(from, term, chunks),
    },
    logger: (event, detail) => {
      if (!config.quiet) log(`transport: ${event}${detail ? ` ${JSON.stringify(detail)}` : ""}`);
    },
  });
  node.setLink(transport);
  node.start();

  const server: RunningServer = await startServer({
    listenAddr: config.grpcAddr,
    kv: kvApi,
    cluster: clusterApi,
    limits: config.limits,
    identity: { id: config.id, grpcAddr: config.grpcAddr, raftAddr: config.raftAdvertiseAddr, version: VERSION },
    health: () => (node.currentSoftState().leader !== null && node.failure() === null ? "SERVING" : "NOT_SERVING"),
    page: dashboardPage(),
    logger: { debug: () => {}, info: (m: string) => log(m), error: (m: string) => log(`error: ${m}`) },
  });
  const sweeper = new ExpirySweeper(node, log);
  sweeper.start();
  const governor = new MemoryGovernor({ limitBytes: config.memorySoftLimitMb * (1 << 20), log });
  governor.start();

  const joining = config.joinAddr
    ? joinCluster(config, node, clusterApi, log, (id) => {
        clusterId = id;
        void writeFile(clusterIdFile, id.toString());
      })
    : null;

  let stopping: Promise<void> | null = null;
  return {
    config,
    node,
    grpcPort: server.port,
    raftAddr: transport.listenAddr,
    stop() {
      stopping ??= (async () => {
        joining?.cancel();
        sweeper.stop();
        governor.stop();
        await server.close();
        await node.stop();
        await transport.close();
        await storage.close();
        await kv.close();
      })();
      return stopping;
    },
  };
}

/** A new cluster's first entry: this node as its only voter, with its addresses. */
async function bootstrap(config: NodeConfig, storage: FileLogStorage, afterIndex: number, afterTerm: number): Promise<void> {
  const term = afterTerm + 1;
  const entry: Entry = {
    term,
    index: afterIndex + 1,
    type: EntryType.ConfChange,
    data: encodeConfChange({
      change: { kind: "addVoter", node: config.id, context: encodeMemberAddress({ grpcAddr: config.grpcAddr, raftAddr: config.raftAdvertiseAddr }) },
      conf: { voters: [config.id], learners: [] },
    }),
  };
  const snapshot = afterIndex > 0 ? { index: afterIndex, term: afterTerm, conf: { voters: [config.id], learners: [] } } : null;
  await storage.save({ hardState: { term, vote: "", commit: entry.index }, entries: [entry], snapshot });
}

/** Installs a backup into the empty store, then starts a one-node cluster on top of it. */
async function restoreBackup(config: NodeConfig, storage: FileLogStorage, kv: KvStore, log: Logger): Promise<void> {
  const file = config.restoreFrom as string;
  if (!existsSync(file)) throw new Error(`--restore: no such file ${file}`);
  const staging = `${config.kvDir}/kv-restore`;
  const meta = await KvStore.installSnapshot(staging, createReadStream(file) as AsyncIterable<Uint8Array>);
  await kv.replaceWith(staging);
  await bootstrap(config, storage, meta.index, meta.term);
  log(`restored ${file} (index ${meta.index}, revision ${meta.revision}) into a new cluster with ${config.id} as its only member`);
}
