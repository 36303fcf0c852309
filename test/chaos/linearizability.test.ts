import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  checkHistory,
  loadHistory,
  saveHistory,
  type HistoryOp,
  type Verdict,
} from "../../src/chaos/linearizability.ts";

// Tiny builders: times are [invokedAt, completedAt]; completedAt null = indeterminate.
type Span = [number, number | null];
const get = (c: number, [i, r]: Span, result: string | null, key = "k"): HistoryOp => ({
  clientId: c, key, op: "get", invokedAt: i, completedAt: r, result,
});
const put = (c: number, [i, r]: Span, value: string, key = "k"): HistoryOp => ({
  clientId: c, key, op: "put", value, invokedAt: i, completedAt: r,
});
const del = (c: number, [i, r]: Span, key = "k"): HistoryOp => ({
  clientId: c, key, op: "delete", invokedAt: i, completedAt: r,
});
const cas = (
  c: number, [i, r]: Span, expected: string | null, newValue: string, result: boolean | null, key = "k",
): HistoryOp => ({ clientId: c, key, op: "cas", expected, newValue, result, invokedAt: i, completedAt: r });

function expectOk(history: HistoryOp[]): void {
  const v = checkHistory(history);
  if (!v.ok) throw new Error(`expected linearizable, got:\n${v.explanation}`);
}

function expectViolation(history: HistoryOp[], key = "k"): Extract<Verdict, { kind: "violation" }> {
  const v = checkHistory(history);
  if (v.ok || v.kind !== "violation") throw new Error(`expected a violation, got ${JSON.stringify(v)}`);
  expect(v.key).toBe(key);
  return v;
}

describe("linearizable histories", () => {
  test("empty and sequential", () => {
    expectOk([]);
    expectOk([
      get(1, [0, 1], null),
      put(1, [2, 3], "a"),
      get(2, [4, 5], "a"),
      put(2, [6, 7], "b"),
      get(1, [8, 9], "b"),
      del(1, [10, 11]),
      get(2, [12, 13], null),
    ]);
  });

  test("overlapping puts and gets where either order works", () => {
    // Two concurrent puts; concurrent readers see them in either order.
    const puts = [put(1, [0, 10], "a"), put(2, [0, 10], "b")];
    expectOk([...puts, get(3, [1, 9], "a"), get(4, [11, 12], "b")]);
    expectOk([...puts, get(3, [1, 9], "b"), get(4, [11, 12], "a")]);
    expectOk([...puts, get(3, [1, 9], null), get(4, [11, 12], "a")]);
    // Ops that touch at one instant count as concurrent.
    expectOk([put(1, [0, 5], "a"), get(2, [5, 6], null)]);
  });

  test("delete semantics", () => {
    expectOk([put(1, [0, 1], "a"), del(1, [2, 3]), get(2, [4, 5], null), put(1, [6, 7], "b"), get(2, [8, 9], "b")]);
    expectOk([put(1, [0, 1], "a"), del(1, [2, 6]), get(2, [3, 4], "a"), get(2, [5, 7], null)]);
    expectViolation([put(1, [0, 1], "a"), del(1, [2, 3]), get(2, [4, 5], "a")]);
    expectViolation([put(1, [0, 1], "a"), get(2, [2, 3], null)]);
  });

  test("cas: one of two concurrent cas from the same value succeeds", () => {
    expectOk([
      put(1, [0, 1], "a"),
      cas(1, [2, 10], "a", "b", true),
      cas(2, [2, 10], "a", "c", false),
      get(3, [11, 12], "b"),
    ]);
    expectOk([cas(1, [0, 1], null, "a", true), cas(1, [2, 3], null, "b", false), get(1, [4, 5], "a")]);
  });

  test("indeterminate put observed later, or never observed", () => {
    expectOk([put(1, [0, 1], "a"), put(2, [2, null], "b"), get(3, [50, 51], "a"), get(3, [60, 61], "b")]);
    expectOk([put(1, [0, 1], "a"), put(2, [2, null], "b"), get(3, [50, 51], "a"), get(3, [60, 61], "a")]);
    // An indeterminate get says nothing.
    expectOk([put(1, [0, 1], "a"), get(2, [2, null], "zzz")]);
    // An indeterminate cas that took effect.
    expectOk([put(1, [0, 1], "a"), cas(2, [2, null], "a", "b", null), get(3, [10, 11], "b")]);
  });
});

describe("violations", () => {
  test("stale read", () => {
    const v = expectViolation([
      put(1, [0, 1], "a"),
      put(1, [2, 3], "b"),
      get(2, [4, 5], "a"),
    ]);
    expect(v.blocked.op).toBe("get");
    expect(v.explanation).toContain('get("k") -> "a"');
    expect(v.explanation).toContain('"a" was written by');
  });

  test("lost write", () => {
    expectViolation([
      put(1, [0, 1], "a"),
      put(2, [2, 4], "b"), // acknowledged
      get(3, [3, 5], "b"), // even seen
      get(3, [6, 7], "a"), // then gone
    ]);
    expectViolation([put(1, [0, 1], "a"), put(2, [2, 3], "b"), get(1, [10, 11], "a")]);
  });

  test("read of a value never written", () => {
    const v = expectViolation([put(1, [0, 1], "a"), get(2, [0, 3], "ghost")]);
    expect(v.explanation).toContain('"ghost" was never written');
  });

  test("duplicated apply", () => {
    expectViolation([
      put(1, [0, 1], "a"),
      get(2, [2, 3], "a"),
      put(1, [4, 5], "b"),
      get(2, [6, 7], "b"),
      get(2, [8, 9], "a"),
    ]);
  });

  test("cas: two concurrent cas from the same expected value both succeed", () => {
    expectViolation([put(1, [0, 1], "a"), cas(1, [2, 10], "a", "b", true), cas(2, [2, 10], "a", "c", true)]);
  });

  test("cas that fails although the value matched, or succeeds although it did not", () => {
    expectViolation([put(1, [0, 1], "a"), cas(2, [2, 3], "a", "b", false)]);
    expectViolation([put(1, [0, 1], "a"), cas(2, [2, 3], null, "b", true)]);
  });

  test("indeterminate put observed, then gone without another write", () => {
    expectViolation([
      put(1, [0, 1], "a"),
      put(2, [2, null], "b"),
      get(3, [10, 11], "b"),
      get(3, [12, 13], "a"),
    ]);
  });

  test("indeterminate put read before it was invoked", () => {
    const v = expectViolation([put(1, [0, 1], "a"), get(2, [2, 3], "b"), put(3, [5, null], "b")]);
    expect(v.blocked.op).toBe("get");
  });

  test("indeterminate delete explains an absent read; without it the read is a violation", () => {
    expectOk([put(1, [0, 1], "a"), del(2, [2, null]), get(3, [10, 11], null), get(3, [12, 13], null)]);
    expectViolation([put(1, [0, 1], "a"), get(3, [10, 11], null)]);
    // One indeterminate delete can take effect once: absent, then "a" seen, then absent again.
    expectViolation([
      put(1, [0, 1], "a"),
      del(2, [2, null]),
      get(3, [10, 11], null),
      put(1, [12, 13], "b"),
      get(3, [14, 15], null),
    ]);
  });

  test("multiple keys, only one bad: the verdict names it", () => {
    const good = (key: string): HistoryOp[] => [
      put(1, [0, 10], `${key}1`, key),
      get(2, [1, 9], `${key}1`, key),
      put(1, [11, 12], `${key}2`, key),
      get(2, [13, 14], `${key}2`, key),
    ];
    const bad = [put(5, [0, 1], "x1", "bad"), put(5, [2, 3], "x2", "bad"), get(6, [4, 5], "x1", "bad")];
    expectOk([...good("p"), ...good("q")]);
    const v = expectViolation([...good("p"), ...bad, ...good("q")], "bad");
    expect(v.explanation).toContain('key "bad"');
  });

  test("explanation shows the prefix, the blocked op and the concurrent ops", () => {
    const v = expectViolation([
      put(1, [0, 1], "a"),
      put(2, [2, 8], "b"),
      put(4, [2, 20], "d"),
      get(3, [3, 7], "c"), // c is written only later
      put(1, [9, 10], "c"),
    ]);
    expect(v.prefix[0]).toEqual(put(1, [0, 1], "a"));
    expect(v.blocked).toEqual(get(3, [3, 7], "c"));
    expect(v.concurrent.length).toBeGreaterThan(0);
    expect(v.concurrent.every((op) => op.op === "put")).toBe(true);
    expect(v.explanation).toContain("=>[3..7] client 3");
    expect(v.explanation).toContain("Longest linearizable prefix");
  });
});

describe("budget and persistence", () => {
  test("a spent budget gives 'unknown', never a pass", () => {
    const history = randomHistory(7, 400, 0.05).history;
    const v = checkHistory(history, { maxSteps: 10 });
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.kind).toBe("unknown");
  });

  test("saveHistory / loadHistory round trip", () => {
    const dir = mkdtempSync(join(tmpdir(), "rbkv-lin-"));
    try {
      const history = randomHistory(3, 200, 0.05).history;
      const path = join(dir, "history.json");
      saveHistory(path, history);
      const loaded = loadHistory(path);
      expect(loaded).toEqual(history);
      expect(checkHistory(loaded).ok).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// A linearizable history by construction: each client runs ops one after another; every op that
// takes effect gets a linearization point inside its interval (an indeterminate op anywhere after
// its invocation, or not at all), and results come from applying the ops to a register in
// linearization-point order.
function randomHistory(seed: number, count: number, indeterminate: number, clients = 8, key = "k") {
  let s = seed;
  const rand = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
  type Planned = { op: HistoryOp; point: number | null };
  const planned: Planned[] = [];
  const clock = Array.from({ length: clients }, () => 0);
  for (let n = 0; n < count; n++) {
    const c = Math.floor(rand() * clients);
    const invokedAt = clock[c] + Math.floor(rand() * 3);
    const completedAt = invokedAt + Math.floor(rand() * 12);
    clock[c] = completedAt + 1;
    const lost = rand() < indeterminate;
    const point = lost
      ? rand() < 0.5 ? null : invokedAt + rand() * 60
      : invokedAt + rand() * (completedAt - invokedAt);
    const kind = pick(["get", "get", "get", "put", "put", "delete", "cas", "cas"] as const);
    const base = { clientId: c, key, invokedAt, completedAt: lost ? null : completedAt };
    const value = `v${n}`;
    const op: HistoryOp =
      kind === "get" ? { ...base, op: "get", result: null }
      : kind === "put" ? { ...base, op: "put", value }
      : kind === "delete" ? { ...base, op: "delete" }
      : { ...base, op: "cas", expected: null, newValue: value, result: null };
    planned.push({ op, point });
  }
  let state: string | null = null;
  const written: string[] = [];
  const applied = planned.filter((p) => p.point !== null).sort((a, b) => (a.point as number) - (b.point as number));
  for (const { op } of applied) {
    if (op.op === "get") op.result = state;
    else if (op.op === "put") state = op.value;
    else if (op.op === "delete") state = null;
    else {
      op.expected = rand() < 0.6 || written.length === 0 ? state : pick(written);
      const ok = op.expected === state;
      if (ok) state = op.newValue;
      if (op.completedAt !== null) op.result = ok;
    }
    if (state !== null && !written.includes(state)) written.push(state);
  }
  // A cas that never took effect still needs plausible arguments.
  for (const { op, point } of planned) {
    if (point === null && op.op === "cas") op.expected = written.length ? pick(written) : null;
  }
  return { history: planned.map((p) => p.op) };
}

describe("randomized", () => {
  test.each([42, 7, 1234])("2000-op concurrent history with indeterminate ops is linearizable; one stale read is caught (seed %p)", (seed) => {
    const { history } = randomHistory(seed, 2000, 0.02);
    const t0 = performance.now();
    const ok = checkHistory(history, { timeoutMs: 20_000 });
    const tOk = performance.now() - t0;
    if (!ok.ok) throw new Error(ok.explanation);

    // Corrupt one read into a stale read: the value of a put p that a later completed write w
    // overwrote, with p and w and then the get strictly one after another. Values are unique,
    // so no order can make the get see p's value.
    const done = (op: HistoryOp) => op.completedAt !== null;
    const overwrites = (op: HistoryOp) =>
      done(op) && (op.op === "put" || op.op === "delete" || (op.op === "cas" && op.result === true));
    const getIndex = history.findIndex((g, i) => {
      if (i < history.length / 2 || g.op !== "get" || !done(g)) return false;
      return history.some(
        (p) => p.op === "put" && done(p) && p.value !== g.result &&
          history.some((w) => overwrites(w) && w.invokedAt > p.completedAt! && w.completedAt! < g.invokedAt),
      );
    });
    expect(getIndex).toBeGreaterThan(0);
    const g = history[getIndex];
    const p = history.find(
      (p) => p.op === "put" && done(p) && p.value !== (g.op === "get" ? g.result : undefined) &&
        history.some((w) => overwrites(w) && w.invokedAt > p.completedAt! && w.completedAt! < g.invokedAt),
    )!;
    const corrupted = history.map((op, i) =>
      i === getIndex && op.op === "get" && p.op === "put" ? { ...op, result: p.value } : op,
    );
    const t1 = performance.now();
    const bad = checkHistory(corrupted, { timeoutMs: 20_000 });
    const tBad = performance.now() - t1;
    console.log(`2000 ops: linearizable in ${tOk.toFixed(0)} ms; corrupted caught in ${tBad.toFixed(0)} ms`);
    if (bad.ok || bad.kind !== "violation") throw new Error(`expected a violation, got ${JSON.stringify(bad).slice(0, 300)}`);
    expect(bad.explanation).toContain("NOT linearizable");
    if (seed === 42) console.log(bad.explanation);
  }, 60_000);

  test("several keys and seeds, up to 10% indeterminate ops", () => {
    for (let seed = 1; seed <= 5; seed++) {
      const history = ["a", "b", "c"].flatMap((key, i) =>
        randomHistory(seed * 10 + i, 700, 0.02 * (i + 1) + (i === 2 ? 0.04 : 0), 6, key).history,
      );
      const v = checkHistory(history, { timeoutMs: 20_000 });
      if (!v.ok) throw new Error(v.explanation);
      expect(v.keys).toBe(3);
    }
  });
});
