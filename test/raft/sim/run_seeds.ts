// Running many seeds: inline, or spread over Bun workers, with totals and failures gathered.
import { addCounters, emptyCounters, type CounterValues } from "./counters";
import type { SeedFailure } from "./failure";
import { runSeed, type RunOptions } from "./simulation";

export interface BatchResult {
  counters: CounterValues;
  failures: SeedFailure[];
}

export function runSeedsInline(seeds: number[], options: RunOptions = {}): BatchResult {
  const counters = emptyCounters();
  const failures: SeedFailure[] = [];
  for (const seed of seeds) {
    const out = runSeed(seed, options);
    addCounters(counters, out.counters);
    if (!out.ok) failures.push(out.failure);
  }
  return { counters, failures };
}

/** What the main thread sends a worker, and what it answers. */
export interface WorkerRequest {
  seeds: number[];
  options: RunOptions;
}
export type WorkerReply = BatchResult;

export interface ParallelOptions {
  workers: number;
  /** Seeds handed to a worker at a time. */
  chunk: number;
  onProgress?: (done: number, total: number, sofar: BatchResult) => void;
}

export async function runSeedsParallel(seeds: number[], options: RunOptions, parallel: ParallelOptions): Promise<BatchResult> {
  const total: BatchResult = { counters: emptyCounters(), failures: [] };
  if (parallel.workers <= 1) {
    for (let i = 0; i < seeds.length; i += parallel.chunk) {
      const part = runSeedsInline(seeds.slice(i, i + parallel.chunk), options);
      addCounters(total.counters, part.counters);
      total.failures.push(...part.failures);
      parallel.onProgress?.(Math.min(i + parallel.chunk, seeds.length), seeds.length, total);
    }
    return total;
  }
  let next = 0;
  let done = 0;
  const workerUrl = new URL("./seed_worker.ts", import.meta.url).href;
  const runWorker = async (): Promise<void> => {
    const worker = new Worker(workerUrl);
    try {
      while (next < seeds.length) {
        const part = seeds.slice(next, next + parallel.chunk);
        next += part.length;
        const reply = await ask(worker, { seeds: part, options });
        addCounters(total.counters, reply.counters);
        total.failures.push(...reply.failures);
        done += part.length;
        parallel.onProgress?.(done, seeds.length, total);
      }
    } finally {
      worker.terminate();
    }
  };
  await Promise.all(Array.from({ length: parallel.workers }, runWorker));
  total.failures.sort((a, b) => a.seed - b.seed);
  return total;
}

function ask(worker: Worker, request: WorkerRequest): Promise<WorkerReply> {
  return new Promise((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<WorkerReply>) => resolve(event.data);
    worker.onerror = (event: ErrorEvent) => reject(new Error(`seed worker failed: ${event.message}`));
    worker.postMessage(request);
  });
}

export function seedRange(start: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => start + i);
}
