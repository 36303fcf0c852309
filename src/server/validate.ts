// Input checks run before a request reaches the node. Every failure is INVALID_ARGUMENT with a
// message naming the field, and for size limits the limit and the flag that sets it.
import { Code, ConnectError } from "@connectrpc/connect";
import type { Duration } from "@bufbuild/protobuf/wkt";
import type { Limits } from "../node/api";
import {
  CompareResult,
  CompareTarget,
  Consistency,
  type Compare,
  type DeleteRequest,
  type GetRequest,
  type PutRequest,
  type RangeRequest,
  type RequestOp,
  type TxnRequest,
  type WatchRequest,
} from "../gen/rbkv/v1/kv_pb";

/** Longest TTL accepted: ten years. Longer is almost certainly a unit mistake. */
export const MAX_TTL_SECONDS = 10n * 365n * 24n * 3600n;

export function invalid(message: string): ConnectError {
  return new ConnectError(message, Code.InvalidArgument);
}

function at(path: string, field: string): string {
  return path ? `${path}.${field}` : field;
}

function checkKey(key: Uint8Array, limits: Limits, path: string, field = "key"): void {
  const name = at(path, field);
  if (key.length === 0) throw invalid(`${name} is empty; give a key of 1 to ${limits.maxKeyBytes} bytes`);
  checkKeySize(key, limits, name);
}

function checkKeySize(key: Uint8Array, limits: Limits, name: string): void {
  if (key.length > limits.maxKeyBytes) {
    throw invalid(`${name} is ${key.length} bytes; the limit is ${limits.maxKeyBytes} (--max-key-bytes)`);
  }
}

function checkValueSize(value: Uint8Array, limits: Limits, name: string): void {
  if (value.length > limits.maxValueBytes) {
    throw invalid(`${name} is ${value.length} bytes; the limit is ${limits.maxValueBytes} (--max-value-bytes)`);
  }
}

function isOpenEnded(rangeEnd: Uint8Array): boolean {
  return rangeEnd.length === 1 && rangeEnd[0] === 0;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/**
 * key/range_end as etcd reads them: empty range_end = just `key` (which must then be non-empty);
 * "\0" = every key >= key; otherwise [key, range_end), which must not be empty. An empty key with
 * a range_end means "from the first key".
 */
function checkRange(key: Uint8Array, rangeEnd: Uint8Array, limits: Limits, path: string): void {
  if (rangeEnd.length === 0) return checkKey(key, limits, path);
  checkKeySize(key, limits, at(path, "key"));
  checkKeySize(rangeEnd, limits, at(path, "range_end"));
  if (!isOpenEnded(rangeEnd) && compareBytes(rangeEnd, key) <= 0) {
    throw invalid(
      `${at(path, "range_end")} must sort after key; leave it empty for one key, or set it to "\\0" for every key >= key`,
    );
  }
}

function checkConsistency(consistency: Consistency, path: string): void {
  if (!(consistency in Consistency)) {
    throw invalid(`${at(path, "consistency")} ${consistency} is not a known Consistency value`);
  }
}

function checkTtl(ttl: Duration | undefined, path: string): void {
  if (ttl === undefined) return;
  const name = at(path, "ttl");
  const { seconds, nanos } = ttl;
  if (nanos <= -1e9 || nanos >= 1e9 || (seconds > 0n && nanos < 0) || (seconds < 0n && nanos > 0)) {
    throw invalid(`${name} is not a valid duration (nanos ${nanos} with seconds ${seconds})`);
  }
  if (seconds < 0n || nanos < 0) throw invalid(`${name} is negative; leave it unset or zero for no expiry`);
  if (seconds > MAX_TTL_SECONDS || (seconds === MAX_TTL_SECONDS && nanos > 0)) {
    throw invalid(`${name} is ${seconds}s; the limit is ${MAX_TTL_SECONDS}s (10 years)`);
  }
}

export function validateGet(req: GetRequest, limits: Limits, path = ""): void {
  checkKey(req.key, limits, path);
  checkConsistency(req.consistency, path);
}

export function validateRange(req: RangeRequest, limits: Limits, path = ""): void {
  checkRange(req.key, req.rangeEnd, limits, path);
  if (req.limit < 0n) throw invalid(`${at(path, "limit")} is ${req.limit}; it must be >= 0 (0 means no limit)`);
  checkConsistency(req.consistency, path);
}

export function validatePut(req: PutRequest, limits: Limits, path = ""): void {
  checkKey(req.key, limits, path);
  checkValueSize(req.value, limits, at(path, "value"));
  checkTtl(req.ttl, path);
}

export function validateDelete(req: DeleteRequest, limits: Limits, path = ""): void {
  checkRange(req.key, req.rangeEnd, limits, path);
}

export function validateWatch(req: WatchRequest, limits: Limits): void {
  checkRange(req.key, req.rangeEnd, limits, "");
  if (req.startRevision < 0n) {
    throw invalid(`start_revision is ${req.startRevision}; it must be >= 0 (0 means from the next write)`);
  }
}

const TARGET_FIELD: Record<CompareTarget, Compare["targetUnion"]["case"] | undefined> = {
  [CompareTarget.UNSPECIFIED]: undefined,
  [CompareTarget.VERSION]: "version",
  [CompareTarget.CREATE]: "createRevision",
  [CompareTarget.MOD]: "modRevision",
  [CompareTarget.VALUE]: "value",
};

function validateCompare(cmp: Compare, limits: Limits, path: string): void {
  if (cmp.result === CompareResult.UNSPECIFIED || !(cmp.result in CompareResult)) {
    throw invalid(`${at(path, "result")} ${cmp.result} is not a known CompareResult; use EQUAL, GREATER, LESS or NOT_EQUAL`);
  }
  if (cmp.target === CompareTarget.UNSPECIFIED || !(cmp.target in CompareTarget)) {
    throw invalid(`${at(path, "target")} ${cmp.target} is not a known CompareTarget; use VERSION, CREATE, MOD or VALUE`);
  }
  checkKey(cmp.key, limits, path);
  const expected = TARGET_FIELD[cmp.target];
  if (cmp.targetUnion.case !== expected) {
    throw invalid(`${path}: target is ${CompareTarget[cmp.target]} so ${expected} must be set (found ${cmp.targetUnion.case ?? "nothing"})`);
  }
  if (cmp.targetUnion.case === "value") checkValueSize(cmp.targetUnion.value, limits, at(path, "value"));
}

function validateOp(op: RequestOp, limits: Limits, path: string): void {
  const r = op.request;
  switch (r.case) {
    case "get":
      return validateGet(r.value, limits, at(path, "get"));
    case "range":
      return validateRange(r.value, limits, at(path, "range"));
    case "put":
      return validatePut(r.value, limits, at(path, "put"));
    case "delete":
      return validateDelete(r.value, limits, at(path, "delete"));
    case undefined:
      throw invalid(`${path} sets no operation; set one of get, range, put or delete`);
  }
}

export function validateTxn(req: TxnRequest, limits: Limits): void {
  const ops = req.success.length + req.failure.length;
  if (ops > limits.maxTxnOps) {
    throw invalid(`txn has ${ops} ops in success and failure; the limit is ${limits.maxTxnOps} (--max-txn-ops)`);
  }
  if (req.compare.length > limits.maxTxnOps) {
    throw invalid(`txn has ${req.compare.length} compares; the limit is ${limits.maxTxnOps} (--max-txn-ops)`);
  }
  req.compare.forEach((c, i) => validateCompare(c, limits, `compare[${i}]`));
  req.success.forEach((op, i) => validateOp(op, limits, `success[${i}]`));
  req.failure.forEach((op, i) => validateOp(op, limits, `failure[${i}]`));
}
