import { create } from "@bufbuild/protobuf";
import {
  type GetResponse,
  GetResponseSchema,
  type KeyValue,
  type RangeResponse,
  RangeResponseSchema,
} from "../gen/rbkv/v1/kv_pb";
import type { Db, DbSnapshot } from "./db";
import { dataKey, userKeyOf } from "./keys";
import { dataBounds, isSingleKey } from "./range";
import { decodeStoredKv, isExpired, type StoredKv, toKeyValue } from "./record";

/** Something keys can be read from: the committed database, or a batch being applied. */
export interface KvSource {
  get(key: Uint8Array): StoredKv | undefined;
  /** Live and expired keys in [key, rangeEnd) (rangeEnd non-empty), sorted by key. */
  scan(key: Uint8Array, rangeEnd: Uint8Array): AsyncIterable<[Uint8Array, StoredKv]>;
}

export interface RangeQuery {
  key: Uint8Array;
  rangeEnd?: Uint8Array;
  /** 0 or absent: no limit. */
  limit?: number;
  keysOnly?: boolean;
  countOnly?: boolean;
}

const SCAN_BATCH = 256;

/** Reads the committed database, through an explicit snapshot if given. */
export class DbSource implements KvSource {
  constructor(
    private readonly db: Db,
    private readonly snapshot?: DbSnapshot,
  ) {}

  get(key: Uint8Array): StoredKv | undefined {
    const bytes = this.snapshot ? this.db.getSync(dataKey(key), { snapshot: this.snapshot }) : this.db.getSync(dataKey(key));
    return bytes === undefined ? undefined : decodeStoredKv(bytes);
  }

  async *scan(key: Uint8Array, rangeEnd: Uint8Array): AsyncIterable<[Uint8Array, StoredKv]> {
    const it = this.db.iterator({ ...dataBounds(key, rangeEnd), snapshot: this.snapshot });
    try {
      for (;;) {
        const rows = await it.nextv(SCAN_BATCH);
        if (rows.length === 0) return;
        for (const [k, v] of rows) yield [userKeyOf(k), decodeStoredKv(v)];
      }
    } finally {
      await it.close();
    }
  }
}

export function liveKv(source: KvSource, key: Uint8Array, nowMs: number): StoredKv | undefined {
  const kv = source.get(key);
  return kv && !isExpired(kv, nowMs) ? kv : undefined;
}

export function readGet(source: KvSource, key: Uint8Array, nowMs: number, revision: number): GetResponse {
  const kv = liveKv(source, key, nowMs);
  return create(GetResponseSchema, {
    header: { revision: BigInt(revision) },
    kv: kv ? toKeyValue(key, kv) : undefined,
  });
}

export async function readRange(source: KvSource, q: RangeQuery, nowMs: number, revision: number): Promise<RangeResponse> {
  const limit = q.limit ?? 0;
  const kvs: KeyValue[] = [];
  let count = 0;
  const take = (key: Uint8Array, kv: StoredKv) => {
    count++;
    if (!q.countOnly && (limit <= 0 || kvs.length < limit)) kvs.push(toKeyValue(key, kv, q.keysOnly));
  };
  const rangeEnd = q.rangeEnd ?? new Uint8Array(0);
  if (isSingleKey(rangeEnd)) {
    const kv = liveKv(source, q.key, nowMs);
    if (kv) take(q.key, kv);
  } else {
    for await (const [key, kv] of source.scan(q.key, rangeEnd)) {
      if (!isExpired(kv, nowMs)) take(key, kv);
    }
  }
  return create(RangeResponseSchema, {
    header: { revision: BigInt(revision) },
    kvs,
    more: !q.countOnly && count > kvs.length,
    count: BigInt(count),
  });
}
