import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import {
  type Compare,
  CompareSchema,
  DeleteRequestSchema,
  PutRequestSchema,
  type RequestOp,
  RequestOpSchema,
  TxnRequestSchema,
} from "../../src/gen/rbkv/v1/kv_pb";
import { encodeConfChange } from "../../src/raft/confchange";
import { type ConfChange, type ConfState, type Entry, EntryType } from "../../src/raft/types";
import { deleteCommand, encodeCommand, expireCommand, putCommand, txnCommand } from "../../src/kv/commands";
import type { ExpiredKey } from "../../src/kv/expiry";
import type { Db } from "../../src/kv/db";
import { KvStore, type KvStoreOptions } from "../../src/kv/store";
import type { Command } from "../../src/gen/rbkv/raft/v1/raft_pb";

export const enc = (s: string) => new TextEncoder().encode(s);
export const dec = (b: Uint8Array | undefined) => (b ? new TextDecoder().decode(b) : undefined);

const dirs: string[] = [];

export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "rbkv-kv-"));
  dirs.push(dir);
  return dir;
}

export async function cleanupDirs(): Promise<void> {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
}

/** A store plus a tiny "log" that numbers entries, so tests read like a sequence of commands. */
export class Harness {
  index = 0;
  constructor(
    public store: KvStore,
    public dir: string,
  ) {}

  static async create(options: KvStoreOptions = {}): Promise<Harness> {
    const dir = join(await tempDir(), "db");
    return new Harness(await KvStore.open(dir, options), dir);
  }

  entry(cmd: Command | null, type = EntryType.Normal, data?: Uint8Array): Entry {
    return { index: ++this.index, term: 1, type, data: data ?? (cmd ? encodeCommand(cmd) : new Uint8Array(0)) };
  }

  async apply(...cmds: Command[]) {
    return this.store.applyEntries(cmds.map((c) => this.entry(c)));
  }

  async put(key: string, value: string, opts: { ttlMs?: number; nowMs?: number; prevKv?: boolean } = {}) {
    const req = create(PutRequestSchema, {
      key: enc(key),
      value: enc(value),
      ttl: opts.ttlMs ? durationFromMs(opts.ttlMs) : undefined,
      prevKv: opts.prevKv ?? false,
    });
    const [r] = await this.apply(putCommand(req, opts.nowMs ?? 1000));
    if (r.kind !== "put") throw new Error(`unexpected ${r.kind}`);
    return r.response;
  }

  async del(key: string, rangeEnd = "", prevKv = false, nowMs = 1000) {
    const [r] = await this.apply(deleteCommand(create(DeleteRequestSchema, { key: enc(key), rangeEnd: enc(rangeEnd), prevKv }), nowMs));
    if (r.kind !== "delete") throw new Error(`unexpected ${r.kind}`);
    return r.response;
  }

  async txn(compare: Compare[], success: RequestOp[], failure: RequestOp[] = [], nowMs = 1000) {
    const [r] = await this.apply(txnCommand(create(TxnRequestSchema, { compare, success, failure }), nowMs));
    if (r.kind !== "txn") throw new Error(`unexpected ${r.kind}`);
    return r.response;
  }

  async expire(keys: ExpiredKey[], nowMs: number) {
    const [r] = await this.apply(expireCommand(keys, nowMs));
    if (r.kind !== "expire") throw new Error(`unexpected ${r.kind}`);
    return r;
  }

  async confChange(change: ConfChange, conf: ConfState) {
    return this.store.applyEntries([this.entry(null, EntryType.ConfChange, encodeConfChange({ change, conf }))]);
  }

  value(key: string, nowMs = 1000): string | undefined {
    return dec(this.store.get(enc(key), nowMs).kv?.value);
  }

  /** The store's LevelDB, for tests that look at or change what it holds. */
  db(): Db {
    return (this.store as unknown as { db: Db }).db;
  }
}

export function cmp(key: string, target: Compare["target"], result: Compare["result"], union: Compare["targetUnion"]): Compare {
  return create(CompareSchema, { key: enc(key), target, result, targetUnion: union });
}

export const opPut = (key: string, value: string): RequestOp =>
  create(RequestOpSchema, { request: { case: "put", value: { key: enc(key), value: enc(value) } } });
export const opGet = (key: string): RequestOp => create(RequestOpSchema, { request: { case: "get", value: { key: enc(key) } } });
export const opDel = (key: string, rangeEnd = ""): RequestOp =>
  create(RequestOpSchema, { request: { case: "delete", value: { key: enc(key), rangeEnd: enc(rangeEnd) } } });
export const opRange = (key: string, rangeEnd: string): RequestOp =>
  create(RequestOpSchema, { request: { case: "range", value: { key: enc(key), rangeEnd: enc(rangeEnd) } } });
