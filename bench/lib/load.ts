import { processCpuSeconds, selfCpuSeconds } from "./cpu";

export interface LoadResult {
  ops: number;
  opsPerSec: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** CPU of the load generator, in cores (1.0 = one core busy). */
  clientCpu: number;
  /** CPU of all server processes together, in cores. */
  serverCpu: number;
}

export interface LoadOptions {
  concurrency: number;
  durationMs: number;
  warmupMs: number;
  serverPids: number[];
  /** One operation by worker `w`; `n` counts that worker's operations. */
  op: (w: number, n: number) => Promise<void>;
}

/** Runs `concurrency` sequential workers for warm-up + duration and measures the measured part. */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  const start = performance.now();
  const measureFrom = start + o.warmupMs;
  const end = measureFrom + o.durationMs;
  let cpuMarks: { self: number; servers: number; at: number } | null = null;
  const markCpu = () => ({ self: selfCpuSeconds(), servers: o.serverPids.reduce((s, p) => s + processCpuSeconds(p), 0), at: performance.now() });
  const warmupTimer = setTimeout(() => (cpuMarks = markCpu()), o.warmupMs);
  const worker = async (w: number) => {
    for (let n = 0; ; n++) {
      const t0 = performance.now();
      if (t0 >= end) return;
      try {
        await o.op(w, n);
        const t1 = performance.now();
        if (t0 >= measureFrom && t1 <= end) latencies.push(t1 - t0);
      } catch {
        if (t0 >= measureFrom) errors++;
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, (_, w) => worker(w)));
  clearTimeout(warmupTimer);
  const after = markCpu();
  const before = cpuMarks ?? after;
  const wall = Math.max(1e-9, (Math.min(after.at, end) - before.at) / 1000);
  latencies.sort((a, b) => a - b);
  const q = (p: number) => quantile(latencies, p);
  return {
    ops: latencies.length,
    opsPerSec: latencies.length / (o.durationMs / 1000),
    errors,
    p50Ms: q(0.5),
    p99Ms: q(0.99),
    maxMs: latencies.length ? latencies[latencies.length - 1] : 0,
    clientCpu: (after.self - before.self) / ((after.at - before.at) / 1000 || wall),
    serverCpu: (after.servers - before.servers) / ((after.at - before.at) / 1000 || wall),
  };
}

/** The value at quantile `q` (0..1) of ascending `sorted`; 0 when empty. */
export function quantile(sorted: readonly number[], q: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : 0;
}
