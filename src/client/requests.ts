// Request messages built from friendly options; shared by the client's calls and txn operations.
import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import {
  Consistency,
  type DeleteRequest,
  DeleteRequestSchema,
  type GetRequest,
  GetRequestSchema,
  type PutRequest,
  PutRequestSchema,
  type RangeRequest,
  RangeRequestSchema,
} from "../gen/rbkv/v1/kv_pb";
import { prefixEnd, toBytes, type BytesLike } from "./bytes";
import { parseDuration } from "./duration";

export interface ReadOptions {
  /** Serve from the member's local state at once (may be stale); default false: linearizable. */
  serializable?: boolean;
}

export interface RangeOptions extends ReadOptions {
  /** At most this many keys (0 or unset: no limit). */
  limit?: number;
  /** Keys without values. */
  keysOnly?: boolean;
  /** Only the count. */
  countOnly?: boolean;
}

export interface PutOptions {
  /** Time to live in milliseconds. */
  ttlMs?: number;
  /** Time to live as text: "30s", "5m", "1h30m". */
  ttl?: string;
  /** Return the previous key-value. */
  prevKv?: boolean;
}

export interface DeleteOptions {
  /** Delete every key starting with `key`. */
  prefix?: boolean;
  /** Return the deleted key-values. */
  prevKv?: boolean;
}

export function consistencyOf(options: ReadOptions): Consistency {
  return options.serializable ? Consistency.SERIALIZABLE : Consistency.LINEARIZABLE;
}

export function getRequest(key: BytesLike, options: ReadOptions = {}): GetRequest {
  return create(GetRequestSchema, { key: toBytes(key), consistency: consistencyOf(options) });
}

/** Every key in [start, end); `end` "\0" means every key >= start. */
export function rangeRequest(start: BytesLike, end: BytesLike, options: RangeOptions = {}): RangeRequest {
  return create(RangeRequestSchema, {
    key: toBytes(start),
    rangeEnd: toBytes(end),
    limit: BigInt(options.limit ?? 0),
    consistency: consistencyOf(options),
    keysOnly: options.keysOnly ?? false,
    countOnly: options.countOnly ?? false,
  });
}

export function prefixRequest(prefix: BytesLike, options: RangeOptions = {}): RangeRequest {
  const start = toBytes(prefix);
  return rangeRequest(start, prefixEnd(start), options);
}

export function ttlMsOf(options: PutOptions): number {
  if (options.ttlMs !== undefined && options.ttl !== undefined) throw new TypeError("give ttlMs or ttl, not both");
  const ms = options.ttl !== undefined ? parseDuration(options.ttl) : options.ttlMs ?? 0;
  if (!Number.isFinite(ms) || ms < 0) throw new TypeError(`the time to live must be a positive duration, got ${ms} ms`);
  return ms;
}

export function putRequest(key: BytesLike, value: BytesLike, options: PutOptions = {}): PutRequest {
  const ttlMs = ttlMsOf(options);
  return create(PutRequestSchema, {
    key: toBytes(key),
    value: toBytes(value),
    ttl: ttlMs > 0 ? durationFromMs(ttlMs) : undefined,
    prevKv: options.prevKv ?? false,
  });
}

export function deleteRequest(key: BytesLike, options: DeleteOptions = {}): DeleteRequest {
  const k = toBytes(key);
  return create(DeleteRequestSchema, { key: k, rangeEnd: options.prefix ? prefixEnd(k) : new Uint8Array(0), prevKv: options.prevKv ?? false });
}
