// The members a client knows: one Connect client per endpoint, which one leads (found with
// Cluster.Status, forgotten on trouble), which are resting after a failure, and a round-robin
// cursor for reads that any member may serve.
import { createClient, type Client, type Transport } from "@connectrpc/connect";
import { Cluster, type StatusResponse } from "../gen/rbkv/v1/cluster_pb";
import { KV } from "../gen/rbkv/v1/kv_pb";

/** Makes a Connect transport for one member's base URL ("http://host:port"). */
export type TransportFactory = (baseUrl: string) => Transport;

/** How long a member that just failed is skipped when another one is available. */
const REST_AFTER_FAILURE_MS = 1_000;
/** How long one Status call may take while looking for the leader. */
const STATUS_PROBE_TIMEOUT_MS = 2_000;

export class Member {
  readonly kv: Client<typeof KV>;
  readonly cluster: Client<typeof Cluster>;
  /** The member id, once a response told us. */
  memberId: string | null = null;
  restUntil = 0;

  constructor(readonly endpoint: string, readonly baseUrl: string, transport: Transport) {
    this.kv = createClient(KV, transport);
    this.cluster = createClient(Cluster, transport);
  }

  get resting(): boolean {
    return Date.now() < this.restUntil;
  }
}

/** "host:port" -> "http://host:port"; URLs are kept (without a trailing slash). */
export function baseUrlOf(endpoint: string): string {
  const e = endpoint.trim();
  const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(e) ? e : `http://${e}`;
  return url.replace(/\/+$/, "");
}

export class MemberPool {
  readonly members: Member[];
  private leader: Member | null = null;
  private cursor = 0;
  private leaderSearch: Promise<Member | null> | null = null;

  constructor(endpoints: readonly string[], transport: TransportFactory) {
    if (endpoints.length === 0) throw new Error("rbkv client: give at least one endpoint (host:port)");
    const unique = [...new Set(endpoints.map((e) => e.trim()).filter((e) => e.length > 0))];
    this.members = unique.map((e) => new Member(e, baseUrlOf(e), transport(baseUrlOf(e))));
  }

  /** The next member for a read any member may serve, skipping resting ones while others are up. */
  nextForRead(): Member {
    const n = this.members.length;
    for (let i = 0; i < n; i++) {
      const m = this.members[(this.cursor + i) % n];
      if (!m.resting) {
        this.cursor = (this.cursor + i + 1) % n;
        return m;
      }
    }
    const m = this.members[this.cursor % n];
    this.cursor = (this.cursor + 1) % n;
    return m;
  }

  /** The leader if known and not resting; otherwise looks for it; falls back to any member (it forwards). */
  async leaderOrAny(signal?: AbortSignal): Promise<Member> {
    if (this.leader && !this.leader.resting) return this.leader;
    const found = await this.findLeader(signal);
    return found ?? this.nextForRead();
  }

  knownLeader(): Member | null {
    return this.leader;
  }

  /** A call on `member` failed in a way that says it may be down or no longer lead. */
  noteFailure(member: Member): void {
    member.restUntil = Date.now() + REST_AFTER_FAILURE_MS;
    if (this.leader === member) this.leader = null;
  }

  noteSuccess(member: Member, memberId?: string): void {
    member.restUntil = 0;
    if (memberId) member.memberId = memberId;
  }

  forgetLeader(): void {
    this.leader = null;
  }

  /** Asks every member for its status at once; the first that says it leads wins. Concurrent callers share one search. */
  findLeader(signal?: AbortSignal): Promise<Member | null> {
    if (!this.leaderSearch) {
      this.leaderSearch = this.searchLeader(signal).finally(() => (this.leaderSearch = null));
    }
    return this.leaderSearch;
  }

  private searchLeader(signal?: AbortSignal): Promise<Member | null> {
    return new Promise((resolve) => {
      let pending = this.members.length;
      let done = false;
      const statuses = new Map<Member, StatusResponse>();
      const finish = (m: Member | null) => {
        if (done) return;
        done = true;
        this.leader = m;
        resolve(m);
      };
      for (const m of this.members) {
        m.cluster
          .status({}, { signal, timeoutMs: STATUS_PROBE_TIMEOUT_MS })
          .then((s) => {
            this.noteSuccess(m, s.memberId);
            statuses.set(m, s);
            if (s.role === "leader") finish(m);
          })
          .catch(() => {
            m.restUntil = Date.now() + REST_AFTER_FAILURE_MS;
          })
          .finally(() => {
            if (--pending > 0 || done) return;
            // Nobody said "leader" (it may be outside our endpoint list, or an election is on):
            // use a member whose id others report as leader, if we have it.
            const leaderIds = [...statuses.values()].map((s) => s.leaderId).filter((id) => id !== "");
            finish(this.members.find((x) => x.memberId !== null && leaderIds.includes(x.memberId)) ?? null);
          });
      }
    });
  }
}
