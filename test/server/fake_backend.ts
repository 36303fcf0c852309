// An in-memory stand-in for the node runtime, so the server can be tested without Raft or disk.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  MemberAddResponseSchema,
  MemberListResponseSchema,
  MemberPromoteResponseSchema,
  MemberRemoveResponseSchema,
  MemberSchema,
  SnapshotResponseSchema,
  StatusResponseSchema,
  TransferLeadershipResponseSchema,
  type Member,
  type SnapshotResponse,
} from "../../src/gen/rbkv/v1/cluster_pb";
import {
  CompareResult,
  CompareTarget,
  DeleteResponseSchema,
  EventType,
  GetResponseSchema,
  KeyValueSchema,
  PutResponseSchema,
  RangeResponseSchema,
  ResponseHeaderSchema,
  ResponseOpSchema,
  TxnResponseSchema,
  WatchResponseSchema,
  type Compare,
  type DeleteRequest,
  type KeyValue,
  type PutRequest,
  type RangeRequest,
  type RequestOp,
  type ResponseOp,
  type WatchResponse,
} from "../../src/gen/rbkv/v1/kv_pb";
import type { ClusterApi, KvApi } from "../../src/node/api";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function inRange(k: Uint8Array, key: Uint8Array, end: Uint8Array): boolean {
  if (end.length === 0) return compareBytes(k, key) === 0;
  if (compareBytes(k, key) < 0) return false;
  return (end.length === 1 && end[0] === 0) || compareBytes(k, end) < 0;
}

function waitForAbort(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

/** Counts and remembers what the server passed through, for assertions. */
export interface CallLog {
  calls: string[];
  /** Resolves each time a streaming call's signal aborts (watch or snapshot). */
  streamAborts: number;
  streamsOpen: number;
}

export class FakeKv implements KvApi {
  readonly data = new Map<string, KeyValue>();
  revision = 0n;
  readonly log: CallLog = { calls: [], streamAborts: 0, streamsOpen: 0 };
  /** Events a watch sends before it waits for the client to go away. */
  watchEvents = 3;
  private abortWaiters: Array<() => void> = [];

  header() {
    return create(ResponseHeaderSchema, { clusterId: 7n, memberId: "n1", revision: this.revision, raftTerm: 2n });
  }

  /** A copy of the state, to check that rejected requests changed nothing. */
  snapshotState(): string {
    const rows = [...this.data.entries()].map(([k, v]) => `${k}=${hex(v.value)}@${v.modRevision}`);
    return `${this.revision}|${rows.sort().join(",")}`;
  }

  /** Resolves when the next streaming call notices its signal abort. */
  nextStreamAbort(): Promise<void> {
    return new Promise((resolve) => this.abortWaiters.push(resolve));
  }

  noteStreamAbort(): void {
    this.log.streamAborts++;
    for (const w of this.abortWaiters.splice(0)) w();
  }

  private scan(key: Uint8Array, end: Uint8Array): KeyValue[] {
    return [...this.data.values()].filter((kv) => inRange(kv.key, key, end)).sort((a, b) => compareBytes(a.key, b.key));
  }

  async get(req: { key: Uint8Array }) {
    this.log.calls.push("get");
    return create(GetResponseSchema, { header: this.header(), kv: this.data.get(hex(req.key)) });
  }

  async range(req: RangeRequest) {
    this.log.calls.push("range");
    const all = this.scan(req.key, req.rangeEnd);
    const limited = req.limit > 0n ? all.slice(0, Number(req.limit)) : all;
    return create(RangeResponseSchema, {
      header: this.header(),
      kvs: req.countOnly ? [] : limited.map((kv) => (req.keysOnly ? { ...kv, value: new Uint8Array() } : kv)),
      more: limited.length < all.length,
      count: BigInt(all.length),
    });
  }

  private applyPut(req: PutRequest) {
    const prev = this.data.get(hex(req.key));
    this.revision++;
    const ttlMs = req.ttl ? Number(req.ttl.seconds) * 1000 + req.ttl.nanos / 1e6 : 0;
    this.data.set(
      hex(req.key),
      create(KeyValueSchema, {
        key: req.key,
        value: req.value,
        createRevision: prev?.createRevision ?? this.revision,
        modRevision: this.revision,
        version: (prev?.version ?? 0n) + 1n,
        expiresAt: ttlMs > 0 ? timestampFromMs(Date.now() + ttlMs) : undefined,
      }),
    );
    return create(PutResponseSchema, { header: this.header(), prevKv: req.prevKv ? prev : undefined });
  }

  private applyDelete(req: DeleteRequest) {
    const victims = this.scan(req.key, req.rangeEnd);
    if (victims.length > 0) this.revision++;
    for (const kv of victims) this.data.delete(hex(kv.key));
    return create(DeleteResponseSchema, {
      header: this.header(),
      deleted: BigInt(victims.length),
      prevKvs: req.prevKv ? victims : [],
    });
  }

  async put(req: PutRequest) {
    this.log.calls.push("put");
    return this.applyPut(req);
  }

  async delete(req: DeleteRequest) {
    this.log.calls.push("delete");
    return this.applyDelete(req);
  }

  private holds(cmp: Compare): boolean {
    const kv = this.data.get(hex(cmp.key));
    const u = cmp.targetUnion;
    let order: number;
    if (cmp.target === CompareTarget.VALUE && u.case === "value") order = compareBytes(kv?.value ?? new Uint8Array(), u.value);
    else {
      const actual =
        cmp.target === CompareTarget.VERSION ? kv?.version : cmp.target === CompareTarget.CREATE ? kv?.createRevision : kv?.modRevision;
      const want = u.case === "value" || u.case === undefined ? 0n : u.value;
      order = Number((actual ?? 0n) - want);
    }
    switch (cmp.result) {
      case CompareResult.EQUAL: return order === 0;
      case CompareResult.NOT_EQUAL: return order !== 0;
      case CompareResult.GREATER: return order > 0;
      case CompareResult.LESS: return order < 0;
      default: return false;
    }
  }

  private async applyOp(op: RequestOp): Promise<MessageInitShape<typeof ResponseOpSchema>> {
    const r = op.request;
    switch (r.case) {
      case "get": return { response: { case: "get", value: await this.get(r.value) } };
      case "range": return { response: { case: "range", value: await this.range(r.value) } };
      case "put": return { response: { case: "put", value: this.applyPut(r.value) } };
      case "delete": return { response: { case: "delete", value: this.applyDelete(r.value) } };
      default: throw new Error("validated away");
    }
  }

  async txn(req: { compare: Compare[]; success: RequestOp[]; failure: RequestOp[] }) {
    this.log.calls.push("txn");
    const succeeded = req.compare.every((c) => this.holds(c));
    const responses: ResponseOp[] = [];
    for (const op of succeeded ? req.success : req.failure) responses.push(create(ResponseOpSchema, await this.applyOp(op)));
    return create(TxnResponseSchema, { header: this.header(), succeeded, responses });
  }

  async *watch(req: { key: Uint8Array }, signal: AbortSignal): AsyncGenerator<WatchResponse> {
    this.log.calls.push("watch");
    this.log.streamsOpen++;
    try {
      for (let i = 1; i <= this.watchEvents; i++) {
        yield create(WatchResponseSchema, {
          header: this.header(),
          events: [{ type: EventType.PUT, kv: { key: req.key, value: new TextEncoder().encode(`v${i}`), modRevision: BigInt(i) } }],
        });
      }
      await waitForAbort(signal);
      this.noteStreamAbort();
    } finally {
      this.log.streamsOpen--;
    }
  }
}

export class FakeCluster implements ClusterApi {
  readonly members: Member[] = [
    create(MemberSchema, { id: "n1", grpcAddr: "127.0.0.1:2379", raftAddr: "127.0.0.1:2380", isLeader: true }),
  ];
  readonly calls: string[] = [];
  /** Chunks a snapshot sends; it then waits for abort if `snapshotHangs`. */
  snapshotChunks = 3;
  snapshotChunkBytes = 16;
  snapshotHangs = false;

  constructor(private readonly kv: FakeKv) {}

  async status() {
    this.calls.push("status");
    return create(StatusResponseSchema, { header: this.kv.header(), memberId: "n1", leaderId: "n1", role: "leader", version: "0.1.0" });
  }
  async memberList() {
    this.calls.push("memberList");
    return create(MemberListResponseSchema, { header: this.kv.header(), members: this.members });
  }
  async memberAdd(req: { id: string; grpcAddr: string; raftAddr: string; asLearner: boolean }) {
    this.calls.push("memberAdd");
    const member = create(MemberSchema, { id: req.id, grpcAddr: req.grpcAddr, raftAddr: req.raftAddr, isLearner: req.asLearner });
    this.members.push(member);
    return create(MemberAddResponseSchema, { header: this.kv.header(), member, members: this.members });
  }
  async memberRemove(req: { id: string }) {
    this.calls.push("memberRemove");
    const i = this.members.findIndex((m) => m.id === req.id);
    if (i >= 0) this.members.splice(i, 1);
    return create(MemberRemoveResponseSchema, { header: this.kv.header(), members: this.members });
  }
  async memberPromote(req: { id: string }) {
    this.calls.push("memberPromote");
    for (const m of this.members) if (m.id === req.id) m.isLearner = false;
    return create(MemberPromoteResponseSchema, { header: this.kv.header(), members: this.members });
  }
  async transferLeadership(req: { targetId: string }) {
    this.calls.push("transferLeadership");
    return create(TransferLeadershipResponseSchema, { header: this.kv.header(), leaderId: req.targetId || "n2" });
  }
  async *snapshot(_req: unknown, signal: AbortSignal): AsyncGenerator<SnapshotResponse> {
    this.calls.push("snapshot");
    this.kv.log.streamsOpen++;
    try {
      for (let i = 0; i < this.snapshotChunks; i++) {
        const last = i === this.snapshotChunks - 1;
        yield create(SnapshotResponseSchema, {
          header: i === 0 ? this.kv.header() : undefined,
          blob: new Uint8Array(this.snapshotChunkBytes).fill(i),
          remainingBytes: BigInt((this.snapshotChunks - 1 - i) * this.snapshotChunkBytes),
          checksum: last && !this.snapshotHangs ? new Uint8Array(32).fill(9) : new Uint8Array(),
        });
      }
      if (this.snapshotHangs) {
        await waitForAbort(signal);
        this.kv.noteStreamAbort();
      }
    } finally {
      this.kv.log.streamsOpen--;
    }
  }
}
