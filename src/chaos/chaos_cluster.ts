// A LocalCluster with a RaftProxy in front of every node's Raft port, one Connect gRPC client per
// node, node output appended to <dir>/<name>.log, and the network operations the nemesis uses.
import { createWriteStream, type WriteStream } from "node:fs";
import { join } from "node:path";
import { createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Cluster } from "../gen/rbkv/v1/cluster_pb";
import { KV } from "../gen/rbkv/v1/kv_pb";
import { freePort, LocalCluster, type LocalNode } from "../devtools/local_cluster";
import { RaftProxy } from "./raft_proxy";

/** Quick elections (timeout 0.5-1 s) that a loaded 2-core machine still keeps stable. */
export const CHAOS_NODE_FLAGS = ["--tick-ms=50", "--election-ticks=10", "--heartbeat-ticks=1"];
/** Upper end of the randomized election timeout at CHAOS_NODE_FLAGS. */
export const ELECTION_TIMEOUT_MS = 1000;

export interface ChaosNode {
  node: LocalNode;
  proxy: RaftProxy;
  kv: Client<typeof KV>;
  cluster: Client<typeof Cluster>;
}

export class ChaosCluster {
  private readonly logs = new Map<string, WriteStream>();

  private constructor(
    readonly local: LocalCluster,
    readonly members: ChaosNode[],
    readonly dir: string,
  ) {}

  static async start(size: number, dir: string, extraFlags: string[] = []): Promise<ChaosCluster> {
    const local = await LocalCluster.create({ size, baseDir: dir, flags: [...CHAOS_NODE_FLAGS, ...extraFlags], output: "quiet" });
    const members: ChaosNode[] = [];
    for (const node of local.nodes) {
      node.spec.raftAdvertisePort = await freePort();
      const proxy = new RaftProxy(node.id, "127.0.0.1", node.spec.raftAdvertisePort, node.spec.raftPort);
      await proxy.start();
      const transport = createGrpcTransport({ baseUrl: node.url, pingIntervalMs: 1000, pingTimeoutMs: 1000 });
      members.push({ node, proxy, kv: createClient(KV, transport), cluster: createClient(Cluster, transport) });
    }
    const cc = new ChaosCluster(local, members, dir);
    try {
      const [first, ...rest] = members;
      cc.startNode(first, undefined);
      await first.node.waitReady();
      for (const m of rest) {
        cc.startNode(m, first.node.grpcAddr);
        await m.node.waitReady();
      }
      await local.waitForVoters(size);
    } catch (err) {
      await cc.close();
      throw err;
    }
    return cc;
  }

  /** Starts a node's process (joinAddr only on its first start) and appends its output to its log. */
  startNode(m: ChaosNode, joinAddr?: string): void {
    m.node.start(joinAddr);
    let log = this.logs.get(m.node.spec.name);
    if (!log) {
      log = createWriteStream(join(this.dir, `${m.node.spec.name}.log`), { flags: "a" });
      this.logs.set(m.node.spec.name, log);
    }
    const out = log;
    out.write(`==== ${new Date().toISOString()} start pid ${m.node.process?.pid}\n`);
    m.node.process?.stdout?.on("data", (chunk: Buffer) => out.write(chunk));
    m.node.process?.stderr?.on("data", (chunk: Buffer) => out.write(chunk));
  }

  note(m: ChaosNode, text: string): void {
    this.logs.get(m.node.spec.name)?.write(`==== ${new Date().toISOString()} chaos: ${text}\n`);
  }

  running(): ChaosNode[] {
    return this.members.filter((m) => m.node.running);
  }

  /** Cut traffic from `from` to `to` (one direction). */
  block(from: ChaosNode, to: ChaosNode): void {
    to.proxy.block(from.node.id);
  }

  delay(from: ChaosNode, to: ChaosNode, ms: number): void {
    to.proxy.setDelay(from.node.id, ms);
  }

  healNetwork(): void {
    for (const m of this.members) m.proxy.heal();
  }

  /** The node that says it leads, with the highest term among those that answer (null: none). */
  async findLeader(timeoutMs = 1500): Promise<ChaosNode | null> {
    const answers = await Promise.all(
      this.running().map(async (m) => {
        try {
          const s = await m.cluster.status({}, { timeoutMs });
          return s.role === "leader" ? { m, term: s.raftTerm } : null;
        } catch {
          return null;
        }
      }),
    );
    let best: { m: ChaosNode; term: bigint } | null = null;
    for (const a of answers) if (a && (!best || a.term > best.term)) best = a;
    return best?.m ?? null;
  }

  /** SIGTERM (after SIGCONT), and SIGKILL if the node has not exited within `graceMs`. */
  async stopNode(m: ChaosNode, graceMs = 10_000): Promise<void> {
    if (!m.node.running) return;
    m.node.resume();
    const stopped = m.node.stop("SIGTERM");
    const timedOut = await Promise.race([stopped.then(() => false), sleep(graceMs).then(() => true)]);
    if (timedOut) {
      this.note(m, `did not exit within ${graceMs} ms of SIGTERM: SIGKILL`);
      await m.node.kill();
    }
  }

  /** Stops every process this run started, closes the proxies and logs. */
  async close(): Promise<void> {
    await Promise.all(this.members.map((m) => this.stopNode(m)));
    await Promise.all(this.members.map((m) => m.proxy.close()));
    await Promise.all([...this.logs.values()].map((l) => new Promise<void>((r) => l.end(() => r()))));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
