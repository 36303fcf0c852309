// Starts real rbkv node processes on this machine: for `bun run cluster`, the integration tests,
// the chaos test and the benchmark. Ports are checked free (see freePort); data lives in the folder given.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { createServer } from "node:net";
import { join, resolve } from "node:path";

const MAIN = resolve(import.meta.dir, "../main.ts");

export interface LocalNodeSpec {
  name: string;
  grpcPort: number;
  raftPort: number;
  /** Port other members dial instead of raftPort (a fault-injecting proxy in front of the node). */
  raftAdvertisePort?: number;
  dataDir: string;
}

export interface LocalClusterOptions {
  size: number;
  baseDir: string;
  /** Extra flags for every node, e.g. ["--snapshot-entries=100"]. */
  flags?: string[];
  /** Where node output goes: "inherit-prefixed" prints it with the node's name; "quiet" keeps the last lines in memory. */
  output?: "inherit-prefixed" | "quiet";
  host?: string;
}

/**
 * A free TCP port for a node to listen on later. Ports handed out by listen(0) come from the
 * ephemeral range, which the OS also uses for outgoing connections, so between picking one and
 * the node binding it an outgoing connection can take it (seen as EADDRINUSE on a busy machine).
 * So the port is picked below the ephemeral range, checked free by listening on it, and never
 * handed out twice by this process.
 */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  const [ephemeralLow] = ephemeralRange();
  const low = 10_000;
  const high = Math.max(low + 1_000, ephemeralLow);
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (handedOut.has(port)) continue;
    if (await canListen(host, port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port found between ${low} and ${high}`);
}

const handedOut = new Set<number>();

function ephemeralRange(): [number, number] {
  try {
    const [lo, hi] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
    if (lo > 0 && hi > lo) return [lo, hi];
  } catch {
    // not Linux: fall through to the IANA dynamic range
  }
  return [49152, 65535];
}

function canListen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

export class LocalNode {
  process: ChildProcess | null = null;
  /** The most recent output lines (bounded), for diagnosing a failed test. */
  readonly recent: string[] = [];
  private exitWaiters: ((code: number | null) => void)[] = [];

  constructor(
    readonly spec: LocalNodeSpec,
    private readonly host: string,
    private readonly flags: string[],
    private readonly output: "inherit-prefixed" | "quiet",
  ) {}

  get id(): string {
    return this.grpcAddr;
  }
  get grpcAddr(): string {
    return `${this.host}:${this.spec.grpcPort}`;
  }
  get raftAddr(): string {
    return `${this.host}:${this.spec.raftPort}`;
  }
  get url(): string {
    return `http://${this.grpcAddr}`;
  }
  get running(): boolean {
    return this.process !== null && this.process.exitCode === null && this.process.signalCode === null;
  }

  /** Starts the process; `joinAddr` only on its first start. */
  start(joinAddr?: string): void {
    if (this.running) throw new Error(`${this.spec.name} is already running`);
    const args = [
      // Extra runtime flags for every node, e.g. RBKV_BUN_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/p".
      ...(process.env.RBKV_BUN_FLAGS ?? "").split(" ").filter(Boolean),
      "run",
      MAIN,
      `--grpc-addr=${this.grpcAddr}`,
      `--raft-addr=${this.raftAddr}`,
      ...(this.spec.raftAdvertisePort ? [`--raft-advertise-addr=${this.host}:${this.spec.raftAdvertisePort}`] : []),
      `--log-dir=${this.spec.dataDir}`,
      `--kv-dir=${this.spec.dataDir}`,
      ...(joinAddr ? [`--join-addr=${joinAddr}`] : []),
      ...this.flags,
    ];
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env } });
    this.process = child;
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString().split("\n")) {
        if (!line) continue;
        this.recent.push(line);
        if (this.recent.length > 200) this.recent.shift();
        if (this.output === "inherit-prefixed") process.stdout.write(`${this.spec.name} | ${line}\n`);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.on("exit", (code) => {
      for (const w of this.exitWaiters.splice(0)) w(code);
    });
  }

  /** Sends a signal and waits for the process to exit. */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
    const child = this.process;
    if (!child || !this.running) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((r) => this.exitWaiters.push(r));
    child.kill(signal);
    const code = await exited;
    return code;
  }

  kill(): Promise<number | null> {
    return this.stop("SIGKILL");
  }

  pause(): void {
    this.process?.kill("SIGSTOP");
  }

  resume(): void {
    this.process?.kill("SIGCONT");
  }

  /** Waits until the node answers on its client port. */
  async waitReady(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const res = await fetch(`${this.url}/`, { signal: AbortSignal.timeout(1000) });
        if (res.ok) return;
      } catch {
        // not up yet
      }
      if (!this.running) throw new Error(`${this.spec.name} exited while starting:\n${this.recent.slice(-20).join("\n")}`);
      if (Date.now() > deadline) throw new Error(`${this.spec.name} not ready after ${timeoutMs} ms:\n${this.recent.slice(-20).join("\n")}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export class LocalCluster {
  constructor(readonly nodes: LocalNode[], private readonly options: LocalClusterOptions) {}

  /** Creates (does not start) node handles with fresh ports and data folders under baseDir. */
  static async create(options: LocalClusterOptions): Promise<LocalCluster> {
    const host = options.host ?? "127.0.0.1";
    const nodes: LocalNode[] = [];
    for (let i = 1; i <= options.size; i++) {
      const dataDir = join(options.baseDir, `node${i}`);
      await mkdir(dataDir, { recursive: true });
      const spec = { name: `node${i}`, grpcPort: await freePort(host), raftPort: await freePort(host), dataDir };
      nodes.push(new LocalNode(spec, host, options.flags ?? [], options.output ?? "quiet"));
    }
    return new LocalCluster(nodes, options);
  }

  /** Adds one more node handle (not started). */
  async addNode(): Promise<LocalNode> {
    const host = this.options.host ?? "127.0.0.1";
    const i = this.nodes.length + 1;
    const dataDir = join(this.options.baseDir, `node${i}`);
    await mkdir(dataDir, { recursive: true });
    const node = new LocalNode({ name: `node${i}`, grpcPort: await freePort(host), raftPort: await freePort(host), dataDir }, host, this.options.flags ?? [], this.options.output ?? "quiet");
    this.nodes.push(node);
    return node;
  }

  /** First start: node1 bootstraps, the others join it one after another. */
  async bootstrap(): Promise<void> {
    const [first, ...rest] = this.nodes;
    first.start();
    await first.waitReady();
    for (const n of rest) {
      n.start(first.grpcAddr);
      await n.waitReady();
    }
    await this.waitForVoters(this.nodes.length);
  }

  /** Waits until the first running node lists `count` voters and knows a leader. */
  async waitForVoters(count: number, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const n of this.nodes.filter((x) => x.running)) {
        try {
          const res = await fetch(`${n.url}/rbkv.v1.Cluster/MemberList`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: "{}",
            signal: AbortSignal.timeout(2000),
          });
          const body = (await res.json()) as { members?: { isLearner?: boolean; isLeader?: boolean }[] };
          const members = body.members ?? [];
          if (members.filter((m) => !m.isLearner).length >= count && members.some((m) => m.isLeader)) return;
        } catch {
          // try the next node
        }
      }
      if (Date.now() > deadline) {
        const logs = this.nodes.map((n) => `--- ${n.spec.name} (${n.running ? "running" : "exited"})\n${n.recent.slice(-15).join("\n")}`);
        throw new Error(`cluster did not reach ${count} voters within ${timeoutMs} ms\n${logs.join("\n")}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async stopAll(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop(signal)));
  }
}
