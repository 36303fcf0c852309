// A client that keeps writing keys while the cluster is being disrupted, retrying each write on
// the next running node on UNAVAILABLE-like failures, and remembering which writes were
// acknowledged (and at which revision).
import { KV } from "../../../src/gen/rbkv/v1/kv_pb";
import { enc, isRetryable, sleep, type TestCluster } from "./cluster";

export interface AckedWrite {
  key: string;
  value: string;
  revision: bigint;
}

export class Writer {
  readonly acked: AckedWrite[] = [];
  /** Writes that failed with an error that is not a retry signal (should stay empty). */
  readonly hardErrors: unknown[] = [];
  retries = 0;
  private stopping = false;
  private running: Promise<void>[] = [];
  private nodeCursor = 0;

  constructor(private readonly tc: TestCluster, private readonly prefix: string, private readonly concurrency = 4) {}

  start(): void {
    for (let w = 0; w < this.concurrency; w++) this.running.push(this.loop(w));
  }

  /** Stops after the writes in flight are acknowledged (or given up on). */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.running);
  }

  async waitForAcked(count: number, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.acked.length < count) {
      if (this.hardErrors.length > 0) throw this.hardErrors[0];
      if (Date.now() > deadline) throw new Error(`only ${this.acked.length} of ${count} writes acknowledged in ${timeoutMs} ms`);
      await sleep(20);
    }
  }

  private async loop(w: number): Promise<void> {
    for (let seq = 0; !this.stopping; seq++) {
      const key = `${this.prefix}${w}/${String(seq).padStart(6, "0")}`;
      const value = `value-${w}-${seq}`;
      const deadline = Date.now() + 30_000;
      for (;;) {
        const nodes = this.tc.nodes.filter((n) => n.running);
        if (nodes.length === 0) {
          if (this.stopping) return; // everything is down and we are told to stop: this write stays unacknowledged
          await sleep(50);
          continue;
        }
        const node = nodes[this.nodeCursor++ % nodes.length];
        try {
          const res = await this.tc.client(node, "grpc-js").unary(KV.method.put, { key: enc(key), value: enc(value) });
          this.acked.push({ key, value, revision: res.header!.revision });
          break;
        } catch (err) {
          if (this.stopping && this.tc.nodes.every((n) => !n.running)) return;
          if (!isRetryable(err) || Date.now() > deadline) {
            this.hardErrors.push(err);
            return;
          }
          this.retries++;
          await sleep(20);
        }
      }
    }
  }
}
