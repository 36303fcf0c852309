// Linearizability checker for a history of get / put / delete / cas on a KV store.
//
// Keys are independent registers, so the history is checked one key at a time (P-compositionality).
// Per key this is Wing & Gong's search with Lowe's memoization, as in Porcupine and Knossos:
// - call and return events in time order form a doubly linked list (calls before returns at equal
//   times, so ops that touch at one instant count as concurrent: no false alarms from ms rounding);
// - depth-first: take the first call in the list whose op is legal in the current state, "lift"
//   it (remove its call and return events), repeat from the head; meeting a return event means the
//   op it closes was not placed before it completed, so backtrack: undo the last lift and try the
//   next call after it;
// - memoize every (set of linearized ops, register state) ever reached: reaching it again can not
//   lead anywhere new. The set is a bitset with two incremental XOR hashes (O(1) per lift), the
//   state a small integer, so the cache key is one number and a full compare only on a hit.
// Indeterminate ops (completedAt null):
// - a get is dropped (its result is unknown);
// - a write whose value some completed op read (get, successful cas) must have happened before the
//   earliest such read completed: it gets a return event there and is searched like the others;
// - any other is "optional": it may be placed at any point after its invocation, or never.
//   The search succeeds once every op with a return event is placed.
//
// Reductions that keep the search small without changing the verdict:
// - values that no op reads (no get returned it, no cas expects it) are one state, "some unread
//   value": no op can tell them apart;
// - a legal read-only op (get, failed cas) is placed at once, never branched on ("just in time"
//   linearization: placing it changes no state and only relaxes what may follow);
// - optional ops are tried after the mandatory writes, only right before an op they enable, only
//   the earliest unused one of a group with the same effect, and the cache lets "fewer optional
//   ops used" dominate "more used";
// - if no completed cas on the key failed, an optional write of an unread value is dropped.

import {
  formatOp,
  formatValue,
  type CasOp,
  type HistoryOp,
} from "./history.ts";

export * from "./history.ts";

export interface CheckOptions {
  /** Wall-clock budget for the whole check; when spent the verdict is "unknown". Default 60 s. */
  timeoutMs?: number;
  /** Budget in search steps (summed over keys); when spent the verdict is "unknown". */
  maxSteps?: number;
}

export interface Violation {
  ok: false;
  kind: "violation";
  key: string;
  /** Ops of this key that had to be linearized (completed ops plus kept indeterminate ones). */
  opCount: number;
  /** The longest linearizable prefix the search found, in linearization order. */
  prefix: HistoryOp[];
  /** Register value after that prefix (null: absent). */
  stateAfterPrefix: string | null;
  /** The op whose completion came before it could be placed after that prefix. */
  blocked: HistoryOp;
  /** Ops of this key whose intervals overlap the blocked op's. */
  concurrent: HistoryOp[];
  /** Ops of this key around the violation, by invocation time. */
  slice: HistoryOp[];
  /** All of the above as readable text lines. */
  explanation: string;
}

export interface Unknown {
  ok: false;
  kind: "unknown";
  key: string;
  reason: string;
  explanation: string;
}

export type Verdict = { ok: true; keys: number; ops: number; steps: number } | Violation | Unknown;

/** Check a whole history (any number of keys). A violation on any key wins over "unknown". */
export function checkHistory(history: readonly HistoryOp[], options: CheckOptions = {}): Verdict {
  const deadline = performance.now() + (options.timeoutMs ?? 60_000);
  const budget = { deadline, stepsLeft: options.maxSteps ?? Number.POSITIVE_INFINITY, steps: 0 };
  const byKey = new Map<string, HistoryOp[]>();
  for (const op of history) {
    if (op.completedAt !== null && op.completedAt < op.invokedAt) {
      throw new Error(`op completes before it is invoked: ${formatOp(op)}`);
    }
    let ops = byKey.get(op.key);
    if (!ops) byKey.set(op.key, (ops = []));
    ops.push(op);
  }
  let unknown: Unknown | null = null;
  for (const [key, ops] of byKey) {
    const verdict = checkKey(key, ops, budget);
    if (verdict.kind === "violation") return verdict;
    if (verdict.kind === "unknown") unknown ??= verdict;
  }
  if (unknown) return unknown;
  return { ok: true, keys: byKey.size, ops: history.length, steps: budget.steps };
}

interface Budget {
  deadline: number;
  stepsLeft: number;
  steps: number;
}

const ABSENT = 0;
const UNREAD = 1;

interface Entry {
  id: number; // index into the key's op array
  time: number;
  isCall: boolean;
  match: Entry | null; // call: its return event
  prev: Entry | null;
  next: Entry | null;
}

/** A compiled op: what it needs of the state and what it leaves. */
interface Step {
  /** -1: any state; otherwise required state id. */
  requires: number;
  /** state id the op must NOT see (failed cas), or -1. */
  forbids: number;
  /** -1: leaves the state; otherwise the new state id. */
  writes: number;
}

function checkKey(key: string, all: HistoryOp[], budget: Budget): { kind: "ok" } | Violation | Unknown {
  // Values anyone reads get their own state id; all others share UNREAD.
  const ids = new Map<string, number>();
  const names: (string | null)[] = [null, "<unread value>"];
  const idOf = (v: string | null) => (v === null ? ABSENT : (ids.get(v) ?? UNREAD));
  const observe = (v: string | null) => {
    if (v !== null && !ids.has(v)) {
      ids.set(v, names.length);
      names.push(v);
    }
  };
  let failedCas = false;
  for (const op of all) {
    if (op.op === "get" && op.completedAt !== null) observe(op.result);
    if (op.op === "cas") {
      observe(op.expected);
      if (op.completedAt !== null && op.result === false) failedCas = true;
    }
  }

  // Which completed ops depend on a value being there: an indeterminate write of that value
  // must then have happened, before the earliest such op completed.
  const readBy = new Map<string, number>();
  const noteRead = (v: string | null, at: number) => {
    if (v !== null) readBy.set(v, Math.min(at, readBy.get(v) ?? Infinity));
  };
  for (const op of all) {
    if (op.completedAt === null) continue;
    if (op.op === "get") noteRead(op.result, op.completedAt);
    if (op.op === "cas" && op.result === true) noteRead(op.expected, op.completedAt);
  }

  const ops: HistoryOp[] = [];
  const steps: Step[] = [];
  const returnAt: (number | null)[] = [];
  for (const op of all) {
    const step = compile(op, idOf);
    if (!step) continue;
    let deadline = op.completedAt;
    if (deadline === null) {
      if (!failedCas && step.writes === UNREAD) continue;
      const written = writtenValue(op);
      const readAt = written === null ? undefined : readBy.get(written);
      // A read completing before this op was even invoked fails on its own return event.
      if (readAt !== undefined) deadline = Math.max(readAt, op.invokedAt);
    }
    ops.push(op);
    steps.push(step);
    returnAt.push(deadline);
  }
  const n = ops.length;

  // Optional ops (indeterminate, no deadline) stay out of the event list: one may be placed at any
  // point after its invocation, or never. They are tried last at each point, and the cache treats
  // "fewer optional ops used" as dominating "more used" (same mandatory set and state): if the
  // search failed with more of them still available, it fails with fewer.
  // Optional ops with the same effect differ only in invocation time, so only the earliest unused
  // one of such a group is ever tried: the search sees "how many" rather than every subset.
  const optional = [...ops.keys()]
    .filter((id) => returnAt[id] === null)
    .sort((a, b) => ops[a].invokedAt - ops[b].invokedAt || a - b);
  const optSlot = new Int32Array(n).fill(-1);
  optional.forEach((id, slot) => (optSlot[id] = slot));
  const prevInGroup = new Int32Array(n).fill(-1);
  const lastOfGroup = new Map<string, number>();
  for (const id of optional) {
    const s = steps[id];
    const group = `${s.requires},${s.forbids},${s.writes}`;
    prevInGroup[id] = lastOfGroup.get(group) ?? -1;
    lastOfGroup.set(group, id);
  }

  // Event list of mandatory ops, time ordered; calls before returns at equal times.
  const events: { time: number; isCall: boolean; id: number }[] = [];
  ops.forEach((op, id) => {
    const r = returnAt[id];
    if (r === null) return;
    events.push({ time: op.invokedAt, isCall: true, id });
    events.push({ time: r, isCall: false, id });
  });
  events.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? a.id - b.id : a.isCall ? -1 : 1));
  const head: Entry = { id: -1, time: -Infinity, isCall: false, match: null, prev: null, next: null };
  const callOf: Entry[] = new Array(n);
  let tail = head;
  for (const ev of events) {
    const e: Entry = { id: ev.id, time: ev.time, isCall: ev.isCall, match: null, prev: tail, next: null };
    tail.next = e;
    tail = e;
    if (ev.isCall) callOf[ev.id] = e;
    else callOf[ev.id].match = e;
  }
  const lift = (e: Entry) => {
    for (const x of [e, e.match as Entry]) {
      x.prev!.next = x.next;
      if (x.next) x.next.prev = x.prev;
    }
  };
  const unlift = (e: Entry) => {
    for (const x of [e.match as Entry, e]) {
      x.prev!.next = x;
      if (x.next) x.next.prev = x;
    }
  };

  // Configuration: mandatory ops placed (bitset + two incremental XOR hashes), optional ops used
  // (small bitset), register state.
  const bits = new Uint32Array((n + 31) >>> 5);
  const used = new Uint32Array((optional.length + 31) >>> 5);
  const rnd = xorshift(0x9e3779b9 ^ n);
  const h1s = Uint32Array.from({ length: n }, rnd);
  const h2s = Uint32Array.from({ length: n }, rnd);
  let h1 = 0;
  let h2 = 0;
  const toggle = (id: number) => {
    const slot = optSlot[id];
    if (slot >= 0) {
      used[slot >>> 5] ^= 1 << (slot & 31);
      return;
    }
    bits[id >>> 5] ^= 1 << (id & 31);
    h1 ^= h1s[id];
    h2 ^= h2s[id];
  };
  const isUsed = (id: number) => {
    const slot = optSlot[id];
    return (used[slot >>> 5] & (1 << (slot & 31))) !== 0;
  };
  const cache = new Map<number, { bits: Uint32Array; state: number; used: Uint32Array[] }[]>();
  /** True if this configuration, or one with fewer optional ops used, was reached before. */
  const seenBefore = (next: number, placingOptional: boolean): boolean => {
    const state = next * 2 + (placingOptional ? 1 : 0); // see afterOptional
    const mix = Math.imul(state + 1, 0x85ebca6b);
    const hash = ((h1 ^ mix) >>> 0) * 0x200000 + ((h2 ^ (mix >>> 7)) & 0x1fffff);
    let bucket = cache.get(hash);
    if (!bucket) cache.set(hash, (bucket = []));
    let entry = bucket.find((c) => c.state === state && sameBits(c.bits, bits));
    if (!entry) bucket.push((entry = { bits: bits.slice(), state, used: [] }));
    if (entry.used.some((u) => isSubset(u, used))) return true;
    entry.used.push(used.slice());
    return false;
  };

  // A legal read-only op (get, failed cas) is placed at once and never branched on: placing it
  // now changes no state and only relaxes what may follow, so if the search fails with it placed
  // it fails without it too (Lowe's "just in time" argument). Only writes branch.
  const readOnly = steps.map((s) => s.writes < 0);
  let state = ABSENT;
  const legal = (id: number) => {
    const s = steps[id];
    const prev = prevInGroup[id];
    return (s.requires < 0 || s.requires === state) && s.forbids !== state && (prev < 0 || isUsed(prev));
  };

  // An optional op is only worth placing right before an op it enables: a reader (get, cas) that
  // was not legal before it. Followed by a blind write it changed nothing; followed by a reader
  // that was legal before, the two can be swapped. So after an optional op only readers may come;
  // the cache tells these configurations apart from the unrestricted ones (state * 2 + 1).
  // (When the search reaches optional ops no read-only op is legal, so any legal one after is new.)
  const afterOptional = () => stack.length > 0 && stack[stack.length - 1].entry === null;

  type Frame = { id: number; state: number; entry: Entry | null; blockedAt: Entry | null; slot: number };
  const stack: Frame[] = [];
  let remaining = events.length / 2;
  let best: Best | null = null;
  const FRESH = 0; // just placed something: look for a legal read-only op
  const WALK = 1; // try mandatory writes, in event-list order, up to the first return event
  const OPTIONAL = 2; // then optional ops invoked before that return event
  let mode = FRESH;
  let entry: Entry | null = null; // WALK: next event to look at
  let blockedAt: Entry | null = null; // OPTIONAL: the first return event
  let slot = 0; // OPTIONAL: next optional op to try

  const place = (frame: Frame, next: number) => {
    stack.push(frame);
    state = next;
    if (frame.entry) {
      lift(frame.entry);
      remaining--;
    }
    mode = FRESH;
  };
  /** Undo placements up to the last branching choice and resume after it; false if none left. */
  const backtrack = (): boolean => {
    for (;;) {
      const top = stack.pop();
      if (!top) return false;
      state = top.state;
      toggle(top.id);
      if (top.entry) {
        unlift(top.entry);
        remaining++;
      }
      if (readOnly[top.id]) continue;
      if (top.entry) {
        mode = WALK;
        entry = top.entry.next;
      } else {
        mode = OPTIONAL;
        blockedAt = top.blockedAt;
        slot = top.slot + 1;
      }
      return true;
    }
  };

  while (remaining > 0) {
    budget.steps++;
    if (--budget.stepsLeft < 0 || ((budget.steps & 1023) === 0 && performance.now() > budget.deadline)) {
      const reason = "budget exhausted";
      return {
        ok: false,
        kind: "unknown",
        key,
        reason,
        explanation: `key ${formatValue(key)}: linearizability unknown (${reason}) after ${budget.steps} steps; ` +
          `${n} ops, deepest partial linearization ${best?.prefix.length ?? stack.length}`,
      };
    }
    if (mode === FRESH) {
      let read: Entry | null = null;
      for (let p = head.next; p && p.isCall; p = p.next) {
        if (readOnly[p.id] && legal(p.id)) {
          read = p;
          break;
        }
      }
      if (!read) {
        mode = WALK;
        entry = head.next;
        continue;
      }
      toggle(read.id);
      if (!seenBefore(state, false)) {
        place({ id: read.id, state, entry: read, blockedAt: null, slot: -1 }, state);
        continue;
      }
      toggle(read.id); // this configuration plus `read` failed before, so this one fails
      if (!backtrack()) return explain(key, ops, steps, names, best, returnAt);
    } else if (mode === WALK) {
      if (entry === null) throw new Error("linearizability: internal error, ran off the event list");
      if (entry.isCall) {
        if (!readOnly[entry.id] && legal(entry.id) && !(afterOptional() && steps[entry.id].requires < 0)) {
          const next = steps[entry.id].writes;
          toggle(entry.id);
          if (!seenBefore(next, false)) {
            place({ id: entry.id, state, entry, blockedAt: null, slot: -1 }, next);
            continue;
          }
          toggle(entry.id);
        }
        entry = entry.next;
      } else {
        mode = OPTIONAL;
        blockedAt = entry;
        slot = 0;
      }
    } else {
      const at = blockedAt as Entry;
      const onlyReaders = afterOptional();
      let placed = false;
      for (; slot < optional.length && ops[optional[slot]].invokedAt <= at.time; slot++) {
        const id = optional[slot];
        if (isUsed(id) || !legal(id) || (onlyReaders && steps[id].requires < 0)) continue;
        const next = steps[id].writes;
        toggle(id);
        if (!seenBefore(next, true)) {
          place({ id, state, entry: null, blockedAt: at, slot }, next);
          placed = true;
          break;
        }
        toggle(id);
      }
      if (placed) continue;
      // The op `at` closes was not placed and nothing else can be: dead end.
      if (!best || stack.length > best.prefix.length) {
        const pending: number[] = [];
        for (let p = head.next; p && p !== at; p = p.next) if (p.isCall && p.id !== at.id) pending.push(p.id);
        best = { prefix: stack.map((f) => f.id), state, blocked: at.id, pending };
      }
      if (!backtrack()) return explain(key, ops, steps, names, best, returnAt);
    }
  }
  return { kind: "ok" };
}

function compile(op: HistoryOp, idOf: (v: string | null) => number): Step | null {
  switch (op.op) {
    case "get":
      return op.completedAt !== null ? { requires: idOf(op.result), forbids: -1, writes: -1 } : null;
    case "put":
      return { requires: -1, forbids: -1, writes: idOf(op.value) };
    case "delete":
      return { requires: -1, forbids: -1, writes: ABSENT };
    case "cas":
      return compileCas(op, idOf);
  }
}

function compileCas(op: CasOp, idOf: (v: string | null) => number): Step {
  const expected = idOf(op.expected);
  if (op.completedAt !== null && op.result === false) return { requires: -1, forbids: expected, writes: -1 };
  // Succeeded, or indeterminate: if it took effect without succeeding it changed nothing, which
  // is the same as leaving it out, so only the successful outcome needs to be searched.
  return { requires: expected, forbids: -1, writes: idOf(op.newValue) };
}

interface Best {
  prefix: number[];
  state: number;
  blocked: number;
  pending: number[];
}

/** Every bit set in a is set in b. */
function isSubset(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if ((a[i] & ~b[i]) !== 0) return false;
  return true;
}

function sameBits(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

const MAX_LINES = 40;

function explain(
  key: string,
  ops: HistoryOp[],
  steps: Step[],
  names: (string | null)[],
  best: Best | null,
  returnAt: (number | null)[],
): Violation {
  if (!best) throw new Error("linearizability: internal error, violation without a blocked op");
  const prefix = best.prefix.map((i) => ops[i]);
  const blocked = ops[best.blocked];
  const blockedEnd = returnAt[best.blocked] ?? Infinity;
  const concurrent = ops.filter(
    (op) => op !== blocked && op.invokedAt <= blockedEnd && (op.completedAt ?? Infinity) >= blocked.invokedAt,
  );
  const lastWrite = [...best.prefix].reverse().find((i) => steps[i].writes >= 0);
  const stateName = best.state === UNREAD && lastWrite !== undefined ? writtenValue(ops[lastWrite]) : names[best.state];

  // The window: from the earliest completed op still in play (pending ops, the blocked op, the
  // write that set the state after the prefix) to the blocked op's completion.
  const anchors = [best.blocked, ...best.pending.filter((i) => ops[i].completedAt !== null)];
  if (lastWrite !== undefined && ops[lastWrite].completedAt !== null) anchors.push(lastWrite);
  const from = Math.min(...anchors.map((i) => ops[i].invokedAt));
  const to = blockedEnd;
  const slice = ops
    .filter((op) => op.invokedAt <= to && (op.completedAt ?? Infinity) >= from)
    .filter((op) => op.completedAt !== null || op.invokedAt >= from)
    .sort((a, b) => a.invokedAt - b.invokedAt);

  const lines: string[] = [];
  lines.push(`key ${formatValue(key)}: NOT linearizable.`);
  lines.push(
    `Longest linearizable prefix: ${prefix.length} of ${ops.length} ops, ` +
      `leaving the value ${formatValue(stateName)}` +
      (lastWrite !== undefined ? `, written by ${formatOp(ops[lastWrite])}` : " (initial state)"),
  );
  lines.push(`Last ops of that prefix, in linearization order:`);
  for (const op of prefix.slice(-5)) lines.push(`  ${formatOp(op)}`);
  lines.push(`Could not be linearized (it completed before any order of the pending ops allowed it):`);
  lines.push(`  ${formatOp(blocked)}`);
  lines.push(`  ${needs(blocked, stateName)}`);
  const read = readValue(blocked);
  if (read !== undefined && read !== null) {
    const writer = ops.find(
      (op) => (op.op === "put" && op.value === read) || (op.op === "cas" && op.newValue === read),
    );
    lines.push(writer ? `  ${formatValue(read)} was written by ${formatOp(writer)}` : `  ${formatValue(read)} was never written to this key`);
  }
  lines.push(`Ops concurrent with it:`);
  for (const op of concurrent.slice(0, MAX_LINES)) lines.push(`  ${formatOp(op)}`);
  if (concurrent.length > MAX_LINES) lines.push(`  ... ${concurrent.length - MAX_LINES} more`);
  if (concurrent.length === 0) lines.push(`  (none)`);
  lines.push(`History of key ${formatValue(key)} around the violation (${slice.length} ops):`);
  if (slice.length > MAX_LINES) lines.push(`  ... ${slice.length - MAX_LINES} earlier ops omitted`);
  for (const op of slice.slice(-MAX_LINES)) lines.push(`  ${op === blocked ? "=>" : "  "}${formatOp(op)}`);

  return {
    ok: false,
    kind: "violation",
    key,
    opCount: ops.length,
    prefix,
    stateAfterPrefix: stateName,
    blocked,
    concurrent,
    slice,
    explanation: lines.join("\n"),
  };
}

function writtenValue(op: HistoryOp): string | null {
  return op.op === "put" ? op.value : op.op === "cas" ? op.newValue : null;
}

/** The value an op's success depends on (get result, cas expected), if any. */
function readValue(op: HistoryOp): string | null | undefined {
  if (op.op === "get") return op.result;
  if (op.op === "cas") return op.expected;
  return undefined;
}

function needs(op: HistoryOp, stateName: string | null): string {
  const now = formatValue(stateName);
  switch (op.op) {
    case "get":
      return `(it read ${formatValue(op.result)}; after the prefix the value is ${now})`;
    case "cas":
      return op.result === false
        ? `(it failed, so the value was not ${formatValue(op.expected)}; after the prefix it is ${now})`
        : `(it succeeded, so the value was ${formatValue(op.expected)}; after the prefix it is ${now})`;
    default:
      return op.completedAt === null
        ? `(indeterminate, but its value was read, so it must have taken effect before that read completed)`
        : `(every placement of it left a later op unplaceable)`;
  }
}
