// A recorded history of client operations on a key-value store, as the chaos test records it,
// and the helpers to print it and to save / reload it for re-checking.
//
// Contract for whoever records a history:
// - times are monotonic milliseconds (performance.now() is fine), invokedAt <= completedAt;
// - completedAt is null when the outcome is unknown (timeout, connection lost, unknown error):
//   the op may take effect at any moment after invokedAt, or never;
// - an op that definitely did NOT take effect (rejected before it was proposed) is left out;
// - every value written (put value, cas newValue) is unique across the whole history.

import { readFileSync, writeFileSync } from "node:fs";

export type ClientId = number | string;

interface OpTiming {
  clientId: ClientId;
  key: string;
  invokedAt: number;
  /** null: indeterminate (may or may not have taken effect, at any time after invokedAt). */
  completedAt: number | null;
}

/** result: the value read, or null when the key was absent (ignored when indeterminate). */
export type GetOp = OpTiming & { op: "get"; result: string | null };
export type PutOp = OpTiming & { op: "put"; value: string; result?: "ok" };
export type DeleteOp = OpTiming & { op: "delete"; result?: "ok" };
/**
 * Compare-and-set: if the value equals `expected` (null: key absent) then put `newValue`.
 * result: whether it succeeded; null when indeterminate.
 */
export type CasOp = OpTiming & {
  op: "cas";
  expected: string | null;
  newValue: string;
  result: boolean | null;
};

export type HistoryOp = GetOp | PutOp | DeleteOp | CasOp;

export function isIndeterminate(op: HistoryOp): boolean {
  return op.completedAt === null;
}

function formatTime(t: number): string {
  return Number.isInteger(t) ? String(t) : String(Number(t.toFixed(3)));
}

function formatValue(v: string | null): string {
  if (v === null) return "absent";
  const s = JSON.stringify(v);
  return s.length > 42 ? `${s.slice(0, 39)}..."` : s;
}

/** One readable line: `[t_inv..t_ret] client c: put("k", "v") -> ok`. */
export function formatOp(op: HistoryOp): string {
  const done = op.completedAt !== null;
  const span = `[${formatTime(op.invokedAt)}..${done ? formatTime(op.completedAt as number) : "?"}]`;
  const k = formatValue(op.key);
  let call: string;
  let result: string;
  switch (op.op) {
    case "get":
      call = `get(${k})`;
      result = formatValue(op.result);
      break;
    case "put":
      call = `put(${k}, ${formatValue(op.value)})`;
      result = "ok";
      break;
    case "delete":
      call = `delete(${k})`;
      result = "ok";
      break;
    case "cas":
      call = `cas(${k}, expected ${formatValue(op.expected)}, new ${formatValue(op.newValue)})`;
      result = String(op.result);
      break;
  }
  return `${span} client ${op.clientId}: ${call} -> ${done ? result : "? (indeterminate)"}`;
}

export { formatValue };

interface SavedHistory {
  format: "rbkv-history";
  version: 1;
  ops: HistoryOp[];
}

/** Write the whole history as JSON so a failing run can be re-checked with loadHistory. */
export function saveHistory(path: string, history: readonly HistoryOp[]): void {
  const saved: SavedHistory = { format: "rbkv-history", version: 1, ops: [...history] };
  writeFileSync(path, JSON.stringify(saved, null, 0).replace(/\},\{/g, "},\n{"));
}

export function loadHistory(path: string): HistoryOp[] {
  const parsed: unknown = JSON.parse(readFileSync(path, "utf8"));
  const ops = Array.isArray(parsed) ? parsed : (parsed as { ops?: unknown }).ops;
  if (!Array.isArray(ops)) throw new Error(`${path}: not a saved history (no "ops" array)`);
  return ops.map((raw, i) => validateOp(raw, `${path}: op ${i}`));
}

function validateOp(raw: unknown, where: string): HistoryOp {
  if (typeof raw !== "object" || raw === null) throw new Error(`${where}: not an object`);
  const o = raw as Record<string, unknown>;
  const fail = (what: string): never => {
    throw new Error(`${where}: ${what} in ${JSON.stringify(raw)}`);
  };
  if (typeof o.key !== "string") fail("key must be a string");
  if (typeof o.clientId !== "number" && typeof o.clientId !== "string") fail("bad clientId");
  if (typeof o.invokedAt !== "number") fail("invokedAt must be a number");
  if (o.completedAt !== null && typeof o.completedAt !== "number") fail("bad completedAt");
  const isStrOrNull = (v: unknown) => v === null || typeof v === "string";
  switch (o.op) {
    case "get":
      if (!isStrOrNull(o.result)) fail("get result must be a string or null");
      break;
    case "put":
      if (typeof o.value !== "string") fail("put value must be a string");
      break;
    case "delete":
      break;
    case "cas":
      if (!isStrOrNull(o.expected) || typeof o.newValue !== "string") fail("bad cas arguments");
      if (o.result !== null && typeof o.result !== "boolean") fail("cas result must be boolean or null");
      if (o.completedAt !== null && typeof o.result !== "boolean") fail("completed cas needs a result");
      break;
    default:
      fail("unknown op");
  }
  return o as unknown as HistoryOp;
}
