// The watch check must fail on each way a watcher can be wrong: a gap, a lost acknowledged
// write, a wrong value at a revision, a final state that disagrees with the final reads.
import { expect, test } from "bun:test";
import { Prng } from "../../src/chaos/prng";
import { checkWatcher } from "../../src/chaos/watch_check";
import { Watcher, type SeenEvent } from "../../src/chaos/watchers";
import type { AckedWrite } from "../../src/chaos/workload";

function watcherWith(events: Omit<SeenEvent, "node">[]): Watcher {
  const w = new Watcher("w", { prefix: "chaos/", targets: () => [], prng: new Prng(1), idleMs: 1000, maxStreamMs: 1000 });
  for (const e of events) w.events.push({ ...e, node: "node1" });
  w.lastRevision = events.at(-1)?.revision ?? 0;
  return w;
}

const events = [
  { revision: 1, type: "put" as const, key: "chaos/a", value: "c1-1" },
  { revision: 2, type: "put" as const, key: "chaos/b", value: "c2-1" },
  { revision: 3, type: "delete" as const, key: "chaos/a", value: null },
];
const acked: AckedWrite[] = [
  { key: "chaos/a", type: "put", value: "c1-1", revision: 1 },
  { key: "chaos/a", type: "delete", value: null, revision: 3 },
];
const finalState = new Map<string, string | null>([["chaos/a", null], ["chaos/b", "c2-1"]]);

test("a complete, correct watcher passes", () => {
  expect(checkWatcher(watcherWith(events), acked, 3, finalState).problems).toEqual([]);
});

test("a missing revision is a gap", () => {
  const r = checkWatcher(watcherWith([events[0], events[2]]), acked, 3, finalState);
  expect(r.problems.some((p) => p.includes("revision 2 missing"))).toBe(true);
});

test("an acknowledged write seen with another value fails", () => {
  const wrong = [events[0], { ...events[1] }, events[2]];
  const r = checkWatcher(watcherWith(wrong), [...acked, { key: "chaos/b", type: "put", value: "c9-9", revision: 2 }], 3, finalState);
  expect(r.problems.some((p) => p.includes("acknowledged put chaos/b=c9-9"))).toBe(true);
});

test("a watcher that stops short of the final revision fails", () => {
  const r = checkWatcher(watcherWith(events.slice(0, 2)), acked, 3, finalState);
  expect(r.problems.some((p) => p.includes("reached only revision 2 of 3"))).toBe(true);
});

test("replayed events that disagree with the final reads fail", () => {
  const r = checkWatcher(watcherWith(events), acked, 3, new Map([["chaos/a", "c1-1"]]));
  expect(r.problems.some((p) => p.includes("final read says c1-1"))).toBe(true);
});
