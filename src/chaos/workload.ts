// The chaos workload: C concurrent clients, each one sequential, doing linearizable get / put /
// delete / compare-and-swap on a few keys (so they collide), each op against a random running
// node, recorded into the checker's history format.
//
// Recording rules (see history.ts):
// - a write that failed in any way is indeterminate (completedAt null): the node may have
//   proposed or forwarded it and lost the answer;
// - a read that failed is left out (it changed nothing), and so is a write that was refused at
//   connect (ECONNREFUSED: the request never left the client);
// - every written value is unique: "c<client>-<seq>".
import { Code, ConnectError } from "@connectrpc/connect";
import { CompareResult, CompareTarget, Consistency } from "../gen/rbkv/v1/kv_pb";
import type { HistoryOp } from "./history";
import type { ChaosNode } from "./chaos_cluster";
import type { Prng } from "./prng";

export type RecordedOp = HistoryOp & {
  /** Node the op was sent to. */
  node: string;
  /** Response header revision, when the op succeeded. */
  revision?: number;
  /** Error code / message, when it failed. */
  error?: string;
};

/** A write the cluster acknowledged: the watchers must see it at `revision`. */
export interface AckedWrite {
  key: string;
  type: "put" | "delete";
  /** Value put; null for a delete. */
  value: string | null;
  revision: number;
}

export type OpKind = HistoryOp["op"];
/** dropped: a failed read, left out; refused: a write never sent (connection refused), left out. */
export type Outcome = "ok" | "indeterminate" | "dropped" | "refused";

export interface WorkloadOptions {
  clients: number;
  keys: string[];
  callTimeoutMs: number;
  /** Nodes to send to (the running ones); empty: wait a little and ask again. */
  targets: () => ChaosNode[];
  prng: Prng;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export class Workload {
  readonly history: RecordedOp[] = [];
  readonly acked: AckedWrite[] = [];
  readonly counts = new Map<string, number>();
  /** Last value seen per key (by any client), as the expectation for the next cas. */
  private readonly lastSeen = new Map<string, string | null>();
  private stopping = false;
  private running: Promise<void>[] = [];

  constructor(private readonly opts: WorkloadOptions) {}

  start(): void {
    for (let c = 0; c < this.opts.clients; c++) this.running.push(this.client(c, this.opts.prng.fork()));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.running);
  }

  private count(kind: OpKind, outcome: Outcome): void {
    const k = `${kind} ${outcome}`;
    this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
  }

  private async client(clientId: number, prng: Prng): Promise<void> {
    let seq = 0;
    while (!this.stopping) {
      const targets = this.opts.targets();
      if (targets.length === 0) {
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      const target = prng.pick(targets);
      const key = prng.pick(this.opts.keys);
      const roll = prng.next();
      const value = `c${clientId}-${++seq}`;
      let ok: boolean;
      if (roll < 0.4) ok = (await this.get(clientId, target, key)) !== null;
      else if (roll < 0.65) ok = await this.put(clientId, target, key, value);
      else if (roll < 0.75) ok = await this.del(clientId, target, key);
      else ok = await this.cas(clientId, target, key, prng.next() < 0.8 ? (this.lastSeen.get(key) ?? null) : null, value);
      // After a failure wait a little: a down node fails fast, and a flood of failed ops would
      // only bloat the history with indeterminate writes.
      if (!ok) await new Promise((r) => setTimeout(r, prng.int(50, 300)));
    }
  }

  /** A linearizable get, recorded (and counted) under `clientId`; exported for the final reads. */
  async get(clientId: number | string, target: ChaosNode, key: string): Promise<RecordedOp | null> {
    const invokedAt = performance.now();
    try {
      const res = await target.kv.get({ key: enc.encode(key), consistency: Consistency.LINEARIZABLE }, { timeoutMs: this.opts.callTimeoutMs });
      const result = res.kv ? dec.decode(res.kv.value) : null;
      const op: RecordedOp = { op: "get", clientId, key, invokedAt, completedAt: performance.now(), result, node: target.node.spec.name, revision: Number(res.header?.revision ?? 0n) };
      this.lastSeen.set(key, result);
      this.history.push(op);
      this.count("get", "ok");
      return op;
    } catch {
      this.count("get", "dropped");
      return null;
    }
  }

  private async put(clientId: number, target: ChaosNode, key: string, value: string): Promise<boolean> {
    const invokedAt = performance.now();
    const node = target.node.spec.name;
    try {
      const res = await target.kv.put({ key: enc.encode(key), value: enc.encode(value) }, { timeoutMs: this.opts.callTimeoutMs });
      const revision = Number(res.header?.revision ?? 0n);
      this.history.push({ op: "put", clientId, key, value, invokedAt, completedAt: performance.now(), node, revision });
      this.acked.push({ key, type: "put", value, revision });
      this.lastSeen.set(key, value);
      this.count("put", "ok");
      return true;
    } catch (err) {
      if (this.refused("put", err)) return false;
      this.history.push({ op: "put", clientId, key, value, invokedAt, completedAt: null, node, error: describe(err) });
      this.count("put", "indeterminate");
      return false;
    }
  }

  private async del(clientId: number, target: ChaosNode, key: string): Promise<boolean> {
    const invokedAt = performance.now();
    const node = target.node.spec.name;
    try {
      const res = await target.kv.delete({ key: enc.encode(key) }, { timeoutMs: this.opts.callTimeoutMs });
      const revision = Number(res.header?.revision ?? 0n);
      this.history.push({ op: "delete", clientId, key, invokedAt, completedAt: performance.now(), node, revision });
      if (res.deleted > 0n) this.acked.push({ key, type: "delete", value: null, revision });
      this.lastSeen.set(key, null);
      this.count("delete", "ok");
      return true;
    } catch (err) {
      if (this.refused("delete", err)) return false;
      this.history.push({ op: "delete", clientId, key, invokedAt, completedAt: null, node, error: describe(err) });
      this.count("delete", "indeterminate");
      return false;
    }
  }

  /** If the value is `expected` (null: absent, i.e. version 0) then put `newValue`. */
  private async cas(clientId: number, target: ChaosNode, key: string, expected: string | null, newValue: string): Promise<boolean> {
    const invokedAt = performance.now();
    const node = target.node.spec.name;
    const k = enc.encode(key);
    const compare =
      expected === null
        ? { key: k, result: CompareResult.EQUAL, target: CompareTarget.VERSION, targetUnion: { case: "version" as const, value: 0n } }
        : { key: k, result: CompareResult.EQUAL, target: CompareTarget.VALUE, targetUnion: { case: "value" as const, value: enc.encode(expected) } };
    try {
      const res = await target.kv.txn(
        { compare: [compare], success: [{ request: { case: "put", value: { key: k, value: enc.encode(newValue) } } }], failure: [] },
        { timeoutMs: this.opts.callTimeoutMs },
      );
      const revision = Number(res.header?.revision ?? 0n);
      this.history.push({ op: "cas", clientId, key, expected, newValue, result: res.succeeded, invokedAt, completedAt: performance.now(), node, revision });
      if (res.succeeded) {
        this.acked.push({ key, type: "put", value: newValue, revision });
        this.lastSeen.set(key, newValue);
      }
      this.count("cas", "ok");
      return true;
    } catch (err) {
      if (this.refused("cas", err)) return false;
      this.history.push({ op: "cas", clientId, key, expected, newValue, result: null, invokedAt, completedAt: null, node, error: describe(err) });
      this.count("cas", "indeterminate");
      return false;
    }
  }

  /** A write refused at connect never reached a node: it is left out of the history. */
  private refused(kind: OpKind, err: unknown): boolean {
    if (!isConnectionRefused(err)) return false;
    this.count(kind, "refused");
    return true;
  }
}

function isConnectionRefused(err: unknown): boolean {
  const cause = err instanceof ConnectError ? err.cause : err;
  return typeof cause === "object" && cause !== null && (cause as { code?: unknown }).code === "ECONNREFUSED";
}

function describe(err: unknown): string {
  if (err instanceof ConnectError) return `${Code[err.code]}: ${err.rawMessage}`;
  return err instanceof Error ? err.message : String(err);
}
