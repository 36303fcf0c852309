// Checks what a watcher saw against the run: every write in the run is under the watched prefix
// and touches one key, so the store's revisions are one event each and contiguous.
// - no duplicates, strictly increasing (recorded as problems while watching);
// - no gaps: every revision from the watcher's first to the cluster's final one;
// - every acknowledged write at its response revision, with its key and value;
// - the state replayed from the events equals the final linearizable read of every key.
import type { AckedWrite } from "./workload";
import type { Watcher } from "./watchers";

export interface WatchCheckResult {
  watcher: string;
  events: number;
  reconnects: number;
  problems: string[];
}

const MAX_PROBLEMS = 20;

export function checkWatcher(
  watcher: Watcher,
  acked: readonly AckedWrite[],
  finalRevision: number,
  finalState: ReadonlyMap<string, string | null>,
): WatchCheckResult {
  const problems = [...watcher.problems];
  const add = (p: string) => {
    if (problems.length < MAX_PROBLEMS) problems.push(p);
  };
  // A late indeterminate write may commit after the final reads: what follows them is not checked.
  const events = watcher.events.filter((e) => e.revision <= finalRevision);
  const byRevision = new Map(events.map((e) => [e.revision, e]));
  const first = events[0]?.revision ?? finalRevision + 1;

  const firstAcked = acked.reduce((min, a) => Math.min(min, a.revision), Infinity);
  if (first > firstAcked) add(`${watcher.name}: started at revision ${first}, after the first acknowledged write (revision ${firstAcked})`);
  for (let r = first; r <= finalRevision; r++) {
    if (!byRevision.has(r) && r <= watcher.lastRevision) add(`${watcher.name}: revision ${r} missing (saw ${first}..${watcher.lastRevision}, final ${finalRevision})`);
  }
  if (watcher.lastRevision < finalRevision) add(`${watcher.name}: reached only revision ${watcher.lastRevision} of ${finalRevision}`);

  for (const a of acked) {
    if (a.revision < first) continue;
    const e = byRevision.get(a.revision);
    const want = a.type === "put" ? `put ${a.key}=${a.value}` : `delete ${a.key}`;
    if (!e) add(`${watcher.name}: acknowledged ${want} at revision ${a.revision} never seen`);
    else if (e.key !== a.key || e.type !== a.type || e.value !== a.value) {
      add(`${watcher.name}: acknowledged ${want} at revision ${a.revision}, but the event there is ${e.type} ${e.key}=${e.value} (from ${e.node})`);
    }
  }

  const replayed = new Map<string, string | null>();
  for (const e of events) replayed.set(e.key, e.type === "put" ? e.value : null);
  for (const [key, value] of finalState) {
    const seen = replayed.get(key) ?? null;
    if (seen !== value) add(`${watcher.name}: replaying its events leaves ${key}=${seen}, the final read says ${value}`);
  }
  return { watcher: watcher.name, events: events.length, reconnects: watcher.reconnects, problems };
}
