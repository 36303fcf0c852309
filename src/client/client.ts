// The rbkv client: friendly KV and Cluster calls on top of a pool of members. Writes go to the
// leader, serializable reads are spread round-robin, idempotent calls are retried with backoff,
// and writes are retried only when the failure proves they were not applied.
import { Code, ConnectError } from "@connectrpc/connect";
import { Consistency } from "../gen/rbkv/v1/kv_pb";
import { DEFAULT_BACKOFF, type BackoffOptions } from "./backoff";
import type { BytesLike } from "./bytes";
import { CallRunner, type CallEvent, type CallTarget, type PerCallOptions } from "./call_runner";
import { memberInfo, memberStatus, type EndpointStatus, type MemberInfo, type MemberStatus } from "./cluster_types";
import { optionalKeyValue, type KeyValue } from "./key_value";
import { MemberPool, type TransportFactory } from "./member_pool";
import { deleteRequest, getRequest, prefixRequest, putRequest, rangeRequest, type DeleteOptions, type PutOptions, type RangeOptions, type ReadOptions } from "./requests";
import { deleteResult, putResult, rangeResult, type DeleteResult, type PutResult, type RangeResult } from "./results";
import { pureHasher, verifiedSnapshot, type Hasher, type SnapshotChunk } from "./snapshot";
import { TxnBuilder, txnResult } from "./txn";
import { watchEvents, type WatchEvent, type WatchOptions } from "./watch";

export interface RbkvClientOptions {
  /** Client addresses of members: "host:port" (http:// is assumed) or full URLs. */
  endpoints: readonly string[];
  /** Makes the Connect transport for one member's base URL (Connect, gRPC or gRPC-Web). */
  transport: TransportFactory;
  /** Overall deadline of one call, retries included (default 15000 ms). */
  timeoutMs?: number;
  /** Longest one try of a read may take before another member is tried (default 5000 ms). */
  attemptTimeoutMs?: number;
  backoff?: BackoffOptions;
  /** Where linearizable reads go: the leader (default, saves the forward of the ReadIndex) or any member. */
  linearizableReads?: "leader" | "any";
  /** Called after every attempt of every call: which endpoint served which method and how it ended. */
  onCall?: (event: CallEvent) => void;
  /** SHA-256 for snapshot verification (default: a portable one; the Node client uses node:crypto). */
  hasher?: () => Hasher;
  /** Releases the transports' connections (called by close()). */
  onClose?: () => void;
}

export type CallOptions = PerCallOptions;

export interface MemberAddOptions extends CallOptions {
  grpcAddr: string;
  raftAddr: string;
  /** Add as a learner, to promote once it has caught up. */
  learner?: boolean;
}

export interface SnapshotOptions {
  /** The endpoint to stream from (default: the first that answers). */
  endpoint?: string;
  signal?: AbortSignal;
}

export class RbkvClient {
  private readonly pool: MemberPool;
  private readonly runner: CallRunner;

  constructor(private readonly options: RbkvClientOptions) {
    this.pool = new MemberPool(options.endpoints, options.transport);
    this.runner = new CallRunner(this.pool, {
      timeoutMs: options.timeoutMs ?? 15_000,
      attemptTimeoutMs: options.attemptTimeoutMs ?? 5_000,
      backoff: { ...DEFAULT_BACKOFF, ...options.backoff },
      onCall: options.onCall,
    });
  }

  /** The endpoints this client was made with. */
  get endpoints(): string[] {
    return this.pool.members.map((m) => m.endpoint);
  }

  // ------------------------------------------------------------------ KV

  /** One key, or null when it is absent. */
  async get(key: BytesLike, options: ReadOptions & CallOptions = {}): Promise<KeyValue | null> {
    const req = getRequest(key, options);
    const res = await this.runner.run("Get", "idempotent", this.readTarget(options), (m, o) => m.kv.get(req, o), options);
    return optionalKeyValue(res.kv);
  }

  /** Every key starting with `prefix`, sorted by key. */
  getPrefix(prefix: BytesLike, options: RangeOptions & CallOptions = {}): Promise<RangeResult> {
    const req = prefixRequest(prefix, options);
    return this.runner.run("Range", "idempotent", this.readTarget(options), async (m, o) => rangeResult(await m.kv.range(req, o)), options);
  }

  /** Every key in [start, end), sorted by key; end "\0" means every key >= start. */
  range(start: BytesLike, end: BytesLike, options: RangeOptions & CallOptions = {}): Promise<RangeResult> {
    const req = rangeRequest(start, end, options);
    return this.runner.run("Range", "idempotent", this.readTarget(options), async (m, o) => rangeResult(await m.kv.range(req, o)), options);
  }

  put(key: BytesLike, value: BytesLike, options: PutOptions & CallOptions = {}): Promise<PutResult> {
    const req = putRequest(key, value, options);
    return this.runner.run("Put", "write", "leader", async (m, o) => putResult(await m.kv.put(req, o)), options);
  }

  /** Deletes one key, or with `prefix` every key starting with it. */
  delete(key: BytesLike, options: DeleteOptions & CallOptions = {}): Promise<DeleteResult> {
    const req = deleteRequest(key, options);
    return this.runner.run("Delete", "write", "leader", async (m, o) => deleteResult(await m.kv.delete(req, o)), options);
  }

  /** A transaction: `.if(compare...)`, `.then(op...)`, `.else(op...)`, then `.commit()`. */
  txn(options: CallOptions = {}): TxnBuilder {
    return new TxnBuilder((req) => this.runner.run("Txn", "write", "leader", async (m, o) => txnResult(await m.kv.txn(req, o)), options));
  }

  /** Events on a key (or prefix) as they happen; reconnects and resumes without gaps or duplicates. */
  watch(key: BytesLike, options: WatchOptions = {}): AsyncIterable<WatchEvent> {
    const deps = {
      pool: this.pool,
      backoff: { ...DEFAULT_BACKOFF, ...this.options.backoff },
      reconnectTimeoutMs: this.runner.options.timeoutMs,
      currentRevision: async (k: Uint8Array, signal?: AbortSignal) =>
        (await this.range(k, new Uint8Array(0), { countOnly: true, signal })).revision,
    };
    return { [Symbol.asyncIterator]: () => watchEvents(deps, key, options) };
  }

  // ------------------------------------------------------------------ Cluster

  /** Status of one endpoint (no failover), or of any member that answers. */
  async status(endpoint?: string, options: CallOptions = {}): Promise<MemberStatus> {
    if (endpoint === undefined) {
      return this.runner.run("Status", "idempotent", "any", async (m, o) => memberStatus(await m.cluster.status({}, o)), options);
    }
    const member = this.memberAt(endpoint);
    return memberStatus(await member.cluster.status({}, { signal: options.signal, timeoutMs: options.timeoutMs ?? this.runner.options.attemptTimeoutMs }));
  }

  /** Status of every endpoint at once, answered or not. */
  statusAll(options: CallOptions = {}): Promise<EndpointStatus[]> {
    return Promise.all(
      this.pool.members.map(async (m): Promise<EndpointStatus> => {
        const started = Date.now();
        try {
          const s = await m.cluster.status({}, { signal: options.signal, timeoutMs: options.timeoutMs ?? this.runner.options.attemptTimeoutMs });
          return { endpoint: m.endpoint, status: memberStatus(s), error: null, tookMs: Date.now() - started };
        } catch (err) {
          return { endpoint: m.endpoint, status: null, error: ConnectError.from(err), tookMs: Date.now() - started };
        }
      }),
    );
  }

  /** The members of the current configuration (as the leader knows them, when reachable). */
  async members(options: CallOptions = {}): Promise<MemberInfo[]> {
    const res = await this.runner.run("MemberList", "idempotent", "leader", (m, o) => m.cluster.memberList({ consistency: Consistency.LINEARIZABLE }, o), options);
    return res.members.map(memberInfo);
  }

  /** Adds a member (a voter, or a learner with `learner: true`); returns it and the members after the change. */
  async memberAdd(id: string, options: MemberAddOptions): Promise<{ member: MemberInfo | null; members: MemberInfo[] }> {
    const req = { id, grpcAddr: options.grpcAddr, raftAddr: options.raftAddr, asLearner: options.learner ?? false };
    const res = await this.runner.run("MemberAdd", "write", "leader", (m, o) => m.cluster.memberAdd(req, o), options);
    return { member: res.member ? memberInfo(res.member) : null, members: res.members.map(memberInfo) };
  }

  /** Removes a member; returns the members after the change. */
  async memberRemove(id: string, options: CallOptions = {}): Promise<MemberInfo[]> {
    const res = await this.runner.run("MemberRemove", "write", "leader", (m, o) => m.cluster.memberRemove({ id }, o), options);
    return res.members.map(memberInfo);
  }

  /** Turns a learner into a voter; returns the members after the change. */
  async memberPromote(id: string, options: CallOptions = {}): Promise<MemberInfo[]> {
    const res = await this.runner.run("MemberPromote", "write", "leader", (m, o) => m.cluster.memberPromote({ id }, o), options);
    return res.members.map(memberInfo);
  }

  /** Hands leadership to `targetId` (default: the most caught-up other voter); returns the new leader's id. */
  async transferLeadership(targetId = "", options: CallOptions = {}): Promise<string> {
    const res = await this.runner.run("TransferLeadership", "write", "leader", (m, o) => m.cluster.transferLeadership({ targetId }, o), options);
    this.pool.forgetLeader();
    return res.leaderId;
  }

  /** The endpoint of the member that leads, or null if none is reachable. */
  async leaderEndpoint(signal?: AbortSignal): Promise<string | null> {
    return (this.pool.knownLeader() ?? (await this.pool.findLeader(signal)))?.endpoint ?? null;
  }

  /** A consistent backup of one member's state, in chunks; throws SnapshotChecksumError if it arrives damaged. */
  snapshot(options: SnapshotOptions = {}): AsyncIterable<SnapshotChunk> {
    const hasher = this.options.hasher ?? pureHasher;
    return {
      [Symbol.asyncIterator]: () => {
        const member = options.endpoint !== undefined ? this.memberAt(options.endpoint) : this.pool.nextForRead();
        return verifiedSnapshot(member.cluster.snapshot({}, { signal: options.signal }), hasher());
      },
    };
  }

  /** Releases connections (when the transport factory supports it). */
  close(): void {
    this.options.onClose?.();
  }

  private readTarget(options: ReadOptions): CallTarget {
    if (options.serializable) return "any";
    return this.options.linearizableReads === "any" ? "any" : "leader";
  }

  private memberAt(endpoint: string) {
    const member = this.pool.members.find((m) => m.endpoint === endpoint);
    if (!member) throw new ConnectError(`${endpoint} is not one of this client's endpoints (${this.endpoints.join(", ")})`, Code.InvalidArgument);
    return member;
  }
}

export function createRbkvClient(options: RbkvClientOptions): RbkvClient {
  return new RbkvClient(options);
}
