// Totals a simulation reports: what it did and which faults it injected.

export const FAULT_KINDS = [
  "drop",
  "duplicate",
  "delaySpike",
  "partition",
  "oneWayPartition",
  "isolateLeader",
  "heal",
  "crash",
  "crashLostWrite",
  "restart",
  "pause",
  "diskDelay",
  "snapshotChunkLost",
  "transferLeadership",
  "campaign",
  "confChangeProposed",
  "retireRemovedNode",
] as const;

export const ACTIVITY_KINDS = [
  "seeds",
  "steps",
  "ticks",
  "messagesSent",
  "messagesDelivered",
  "proposals",
  "proposalsRefused",
  "proposalsAcked",
  "appliedDuringWrite",
  "appendsSentDuringWrite",
  "elections",
  "snapshotsSent",
  "snapshotsInstalled",
  "compactions",
  "membershipChangesCommitted",
  "readsRequested",
  "readsAnswered",
  "readsFailed",
] as const;

export type FaultKind = (typeof FAULT_KINDS)[number];
export type ActivityKind = (typeof ACTIVITY_KINDS)[number];
export type CounterName = FaultKind | ActivityKind;
export type CounterValues = Record<CounterName, number>;

export function emptyCounters(): CounterValues {
  const out = {} as CounterValues;
  for (const k of FAULT_KINDS) out[k] = 0;
  for (const k of ACTIVITY_KINDS) out[k] = 0;
  return out;
}

export function addCounters(into: CounterValues, from: CounterValues): void {
  for (const k of Object.keys(into) as CounterName[]) into[k] += from[k];
}

export function formatCounters(c: CounterValues): string {
  const activity = ACTIVITY_KINDS.map((k) => `${k}=${c[k]}`).join(" ");
  const faults = FAULT_KINDS.map((k) => `${k}=${c[k]}`).join(" ");
  return `totals: ${activity}\nfaults injected: ${faults}`;
}
