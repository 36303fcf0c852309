import { expect, test } from "bun:test";
import { MemoryGovernor } from "../../src/node/memory_governor";

function governor(rss: number[], minIntervalMs = 10_000) {
  let clock = 0;
  let i = 0;
  const collected: number[] = [];
  const g = new MemoryGovernor({
    limitBytes: 200,
    minIntervalMs,
    rss: () => rss[Math.min(i++, rss.length - 1)],
    collect: () => collected.push(clock),
    now: () => clock,
  });
  return { g, collected, advance: (ms: number) => (clock += ms) };
}

test("collects only when resident memory is over the limit", () => {
  const { g, collected } = governor([150, 200]);
  expect(g.check()).toBe(false);
  expect(g.check()).toBe(false);
  expect(collected).toEqual([]);
});

test("over the limit: collects, then not again until the interval has passed", () => {
  const { g, collected, advance } = governor([300, 100, 300, 300, 100, 100]);
  expect(g.check()).toBe(true);
  advance(5_000);
  expect(g.check()).toBe(false);
  advance(5_000);
  expect(g.check()).toBe(true);
  expect(collected).toEqual([0, 10_000]);
  expect(g.collections).toBe(2);
});

/**
 * A governor (limit 200, 1 s base interval) over a resident size that each collection sets to the
 * next of `afterEach` and that grows back to `grown` after every check that left it under `regrowBelow`.
 */
function growingHeap(start: number, afterEach: number[], grown: number, regrowBelow: number) {
  let clock = 0;
  let level = start;
  const collected: number[] = [];
  const g = new MemoryGovernor({
    limitBytes: 200,
    minIntervalMs: 1_000,
    rss: () => level,
    collect: () => {
      collected.push(clock);
      level = afterEach.shift() ?? level;
    },
    now: () => clock,
  });
  const at = (t: number) => {
    clock = t;
    const did = g.check();
    if (level < regrowBelow) level = grown; // the garbage grows back
    return did;
  };
  return { at, collected };
}

test("collections that free little back off (doubling the interval); one that frees much resets it", () => {
  const { at, collected } = growingHeap(300, [290, 290, 100, 100], 300, 200);
  expect(at(0)).toBe(true); // 300 -> 290: freed little, next in 2 s
  expect(at(1_000)).toBe(false);
  expect(at(2_000)).toBe(true); // 290 -> 290: freed little, next in 4 s
  expect(at(5_000)).toBe(false);
  expect(at(6_000)).toBe(true); // 290 -> 100: freed much, back to 1 s
  expect(at(7_000)).toBe(true);
  expect(collected).toEqual([0, 2_000, 6_000, 7_000]);
});

test("a collection that gets back under the limit does not back off, however little it freed", () => {
  // 210 -> 195 frees 7%, but leaves it under the limit.
  const { at, collected } = growingHeap(210, [195, 195, 195, 195], 210, 200);
  for (const t of [0, 1_000, 2_000, 3_000]) expect(at(t)).toBe(true);
  expect(collected).toEqual([0, 1_000, 2_000, 3_000]);
});

test("a limit of 0 never starts the timer", () => {
  const g = new MemoryGovernor({ limitBytes: 0, collect: () => {
    throw new Error("must not collect");
  } });
  g.start();
  g.stop();
});

test("a real collection hands garbage back: resident memory falls", () => {
  let garbage: unknown[] | null = Array.from({ length: 300_000 }, (_, i) => ({ i, s: `value-${i}`, b: new Uint8Array(64) }));
  expect(garbage.length).toBe(300_000);
  garbage = null;
  const g = new MemoryGovernor({ limitBytes: 1 });
  const before = process.memoryUsage.rss();
  expect(g.check()).toBe(true);
  expect(process.memoryUsage.rss()).toBeLessThan(before);
});
