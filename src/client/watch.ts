// watch(): an async iterable of events that survives failures. It reconnects (to any member) and
// resumes from the last revision seen + 1, dropping anything at or below it: no gap, no duplicate.
import { Code, ConnectError } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { EventType, type Event, WatchRequestSchema } from "../gen/rbkv/v1/kv_pb";
import { backoffDelay, sleep, type BackoffOptions } from "./backoff";
import { prefixEnd, toBytes, type BytesLike } from "./bytes";
import { WatchCompactedError } from "./errors";
import { fromKeyValueMessage, optionalKeyValue, type KeyValue } from "./key_value";
import type { MemberPool } from "./member_pool";

export interface WatchOptions {
  /** Watch every key starting with `key`. */
  prefix?: boolean;
  /** Watch [key, rangeEnd) instead ("\0": every key >= key). Overrides `prefix`. */
  rangeEnd?: BytesLike;
  /** First revision to deliver; unset: the writes after the watch starts. */
  startRevision?: number | bigint;
  /** Include each key's previous value. */
  prevKv?: boolean;
  /** Ends the iteration (without an error) when aborted. */
  signal?: AbortSignal;
}

export type WatchEventType = "put" | "delete" | "expire";

export interface WatchEvent {
  type: WatchEventType;
  /** The revision of the write (a transaction's events share one). */
  revision: bigint;
  key: Uint8Array;
  keyText: string;
  /** After a put: the new key-value; after a delete or expiry: the key, with modRevision the deleting revision. */
  kv: KeyValue;
  /** The previous key-value, when asked for with prevKv. */
  prevKv: KeyValue | null;
}

export interface WatchDeps {
  pool: MemberPool;
  backoff: BackoffOptions;
  /** Give up after failing to (re)connect for this long. */
  reconnectTimeoutMs: number;
  /** The store revision now (linearizable), for "from the next write on". */
  currentRevision: (key: Uint8Array, signal?: AbortSignal) => Promise<bigint>;
}

/** Failures after which the watch is resumed elsewhere; anything else (bad request, compacted) ends it. */
const RESUMABLE = new Set<Code>([Code.Unavailable, Code.Internal, Code.Unknown, Code.Aborted, Code.DeadlineExceeded, Code.ResourceExhausted, Code.Canceled]);

const TYPE_OF: Partial<Record<EventType, WatchEventType>> = {
  [EventType.PUT]: "put",
  [EventType.DELETE]: "delete",
  [EventType.EXPIRE]: "expire",
};

function toWatchEvent(e: Event): WatchEvent | null {
  if (!e.kv) return null;
  const kv = fromKeyValueMessage(e.kv);
  return { type: TYPE_OF[e.type] ?? "put", revision: kv.modRevision, key: kv.key, keyText: kv.keyText, kv, prevKv: optionalKeyValue(e.prevKv) };
}

export async function* watchEvents(deps: WatchDeps, key: BytesLike, options: WatchOptions = {}): AsyncGenerator<WatchEvent, void, undefined> {
  const k = toBytes(key);
  const rangeEnd = options.rangeEnd !== undefined ? toBytes(options.rangeEnd) : options.prefix ? prefixEnd(k) : new Uint8Array(0);
  const signal = options.signal;
  const start = options.startRevision !== undefined ? BigInt(options.startRevision) : 0n;
  let lastSeen: bigint;
  try {
    lastSeen = start > 0n ? start - 1n : await deps.currentRevision(k, signal);
  } catch (err) {
    if (signal?.aborted) return;
    throw err;
  }
  let failures = 0;
  let failingSince: number | null = null;
  let compactRevision = 0n;
  for (;;) {
    if (signal?.aborted) return;
    const member = deps.pool.nextForRead();
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const req = create(WatchRequestSchema, { key: k, rangeEnd, startRevision: lastSeen + 1n, prevKv: options.prevKv ?? false });
      for await (const res of member.kv.watch(req, { signal: stop.signal })) {
        failures = 0;
        failingSince = null;
        deps.pool.noteSuccess(member, res.header?.memberId);
        if (res.compactRevision > 0n) compactRevision = res.compactRevision;
        const floor = lastSeen;
        for (const raw of res.events) {
          const event = toWatchEvent(raw);
          if (!event || event.revision <= floor) continue;
          if (event.revision > lastSeen) lastSeen = event.revision;
          yield event;
        }
      }
    } catch (err) {
      if (signal?.aborted) return;
      const ce = ConnectError.from(err);
      if (ce.code === Code.OutOfRange) {
        throw new WatchCompactedError(lastSeen + 1n, compactRevision || firstKeptRevision(ce.rawMessage), ce.rawMessage);
      }
      if (!RESUMABLE.has(ce.code)) throw ce;
      deps.pool.noteFailure(member);
    } finally {
      signal?.removeEventListener("abort", onAbort);
      stop.abort();
    }
    failingSince ??= Date.now();
    if (Date.now() - failingSince > deps.reconnectTimeoutMs) {
      throw new ConnectError(`watch could not reconnect to any member for ${deps.reconnectTimeoutMs} ms; resume from revision ${lastSeen + 1n}`, Code.Unavailable);
    }
    try {
      await sleep(backoffDelay(failures++, deps.backoff), signal);
    } catch {
      return;
    }
  }
}

function firstKeptRevision(message: string): bigint {
  const m = /first kept revision (\d+)/.exec(message);
  return m ? BigInt(m[1]) : 0n;
}
