// The client's retry rules, against in-memory fake members (no network): idempotent calls are
// retried on UNAVAILABLE, writes only when the error proves they were not applied, and watch()
// resumes after a failure without gaps or duplicates.
import { describe, expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createRouterTransport, type ServiceImpl } from "@connectrpc/connect";
import { Cluster } from "../../src/gen/rbkv/v1/cluster_pb";
import { EventType, KV, KeyValueSchema, ResponseHeaderSchema, WatchResponseSchema, type WatchResponse } from "../../src/gen/rbkv/v1/kv_pb";
import { createRbkvClient, isProvablyNotApplied, type RbkvClient } from "../../src/client";

interface FakeMember {
  kv?: Partial<ServiceImpl<typeof KV>>;
  cluster?: Partial<ServiceImpl<typeof Cluster>>;
}

function fakeClient(members: Record<string, FakeMember>): RbkvClient {
  return createRbkvClient({
    endpoints: Object.keys(members),
    transport: (baseUrl) => {
      const m = members[baseUrl.replace("http://", "")];
      return createRouterTransport((router) => {
        router.service(KV, m.kv ?? {});
        router.service(Cluster, { status: async () => ({ memberId: baseUrl, role: "leader", leaderId: baseUrl }), ...m.cluster });
      });
    },
    timeoutMs: 3_000,
    backoff: { initialMs: 1, maxMs: 5 },
  });
}

const header = (revision: number) => create(ResponseHeaderSchema, { memberId: "m", revision: BigInt(revision) });

function failingThen<T>(errors: ConnectError[], then: () => T): { calls: () => number; handler: () => Promise<T> } {
  let n = 0;
  return {
    calls: () => n,
    handler: async () => {
      const err = errors[n++];
      if (err) throw err;
      return then();
    },
  };
}

describe("writes", () => {
  test.each([
    ["no leader (an election is in progress or there is no quorum); retry", Code.Unavailable],
    ["the write was lost in a leader change before it committed; it was not applied, retry it", Code.Unavailable],
    ["this node is not the leader (leader: n2); retry", Code.Unavailable],
    ["connect ECONNREFUSED 127.0.0.1:9", Code.Unavailable],
  ])("retried when the error proves it was not applied: %s", async (message, code) => {
    const put = failingThen([new ConnectError(message, code)], () => ({ header: header(7) }));
    const client = fakeClient({ a: { kv: { put: put.handler } } });
    expect((await client.put("k", "v")).revision).toBe(7n);
    expect(put.calls()).toBe(2);
  });

  test.each([
    ["the write did not finish within 10000 ms; its outcome is unknown, check before retrying", Code.DeadlineExceeded],
    ["the write's outcome is unknown (state replaced by a snapshot); check before retrying", Code.Unavailable],
    ["the node is shutting down; retry on another member", Code.Unavailable],
    ["http/2 stream closed with error code INTERNAL_ERROR (0x2)", Code.Internal],
    ["socket hang up", Code.Aborted],
    ["http/2 stream closed with error code CANCEL (0x8)", Code.Canceled],
  ])("surfaced when the outcome is unknown: %s", async (message, code) => {
    const put = failingThen([new ConnectError(message, code)], () => ({ header: header(7) }));
    const client = fakeClient({ a: { kv: { put: put.handler } } });
    const err = await client.put("k", "v").then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(code);
    expect(put.calls()).toBe(1);
  });

  test("a connection refused before reaching any member is safe to retry", () => {
    const refused = new ConnectError("fetch failed", Code.Unavailable, undefined, undefined, Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }));
    expect(isProvablyNotApplied(refused)).toBe(true);
    expect(isProvablyNotApplied(new ConnectError("stream reset", Code.Unavailable))).toBe(false);
  });
});

describe("idempotent calls", () => {
  test("a read whose stream the transport cancelled (not the caller) is retried", async () => {
    const get = failingThen([new ConnectError("http/2 stream closed with error code CANCEL (0x8)", Code.Canceled)], () => ({ header: header(3) }));
    const client = fakeClient({ a: { kv: { get: get.handler } } });
    expect(await client.get("k")).toBeNull();
    expect(get.calls()).toBe(2);
  });

  test("a read the caller cancels is not retried", async () => {
    const abort = new AbortController();
    const get = failingThen([new ConnectError("stream reset", Code.Canceled)], () => ({ header: header(3) }));
    const client = fakeClient({
      a: {
        kv: {
          get: async () => {
            abort.abort();
            return get.handler();
          },
        },
      },
    });
    const err = await client.get("k", { signal: abort.signal }).then(() => null, (e: unknown) => e);
    expect((err as ConnectError).code).toBe(Code.Canceled);
    expect(get.calls()).toBe(1);
  });

  test("a read is retried on UNAVAILABLE and fails over to another member", async () => {
    const a = failingThen([new ConnectError("down", Code.Unavailable), new ConnectError("down", Code.Unavailable)], () => ({ header: header(1) }));
    const b = failingThen([], () => ({ header: header(2), kvs: [] }));
    const client = fakeClient({ a: { kv: { range: a.handler } }, b: { kv: { range: b.handler } } });
    const res = await client.getPrefix("k", { serializable: true });
    expect(res.revision).toBe(2n);
  });

  test("a read that is the caller's fault is not retried", async () => {
    const get = failingThen([new ConnectError("key too large", Code.InvalidArgument)], () => ({ header: header(1) }));
    const client = fakeClient({ a: { kv: { get: get.handler } } });
    await expect(client.get("k")).rejects.toThrow(/key too large/);
    expect(get.calls()).toBe(1);
  });

  test("retries stop at the deadline with the last error", async () => {
    const get = failingThen(Array.from({ length: 10_000 }, () => new ConnectError("no leader", Code.Unavailable)), () => ({ header: header(1) }));
    const client = fakeClient({ a: { kv: { get: get.handler } } });
    const started = Date.now();
    const err = (await client.get("k", { timeoutMs: 300 }).then(() => null, (e: unknown) => e)) as ConnectError;
    expect(err.code).toBe(Code.Unavailable);
    expect(err.rawMessage).toContain("no leader");
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(get.calls()).toBeGreaterThan(1);
  });
});

describe("watch resume", () => {
  const event = (rev: number, value: string) =>
    ({ type: EventType.PUT, kv: create(KeyValueSchema, { key: new TextEncoder().encode("k"), value: new TextEncoder().encode(value), modRevision: BigInt(rev) }) });

  test("after a broken stream it resumes from the last revision + 1 and drops repeats", async () => {
    const starts: bigint[] = [];
    let call = 0;
    const watch = async function* (req: { startRevision: bigint }): AsyncGenerator<WatchResponse> {
      starts.push(req.startRevision);
      call++;
      if (call === 1) {
        yield create(WatchResponseSchema, { header: header(5), events: [event(5, "a"), event(6, "b")] });
        throw new ConnectError("member went away", Code.Unavailable);
      }
      // A member that sends a repeat of revision 6 along with new events.
      yield create(WatchResponseSchema, { header: header(8), events: [event(6, "b"), event(7, "c")] });
      yield create(WatchResponseSchema, { header: header(8), events: [event(8, "d")] });
      await new Promise(() => {});
    };
    const client = fakeClient({ a: { kv: { watch } }, b: { kv: { watch } } });
    const seen: string[] = [];
    const stop = new AbortController();
    for await (const e of client.watch("k", { startRevision: 5, signal: stop.signal })) {
      seen.push(`${e.revision}:${e.kv.valueText}`);
      if (seen.length === 4) stop.abort();
    }
    expect(seen).toEqual(["5:a", "6:b", "7:c", "8:d"]);
    expect(starts).toEqual([5n, 7n]);
  });

  test("OUT_OF_RANGE ends the watch with a WatchCompactedError", async () => {
    const watch = async function* (): AsyncGenerator<WatchResponse> {
      yield create(WatchResponseSchema, { header: header(50), compactRevision: 40n });
      throw new ConnectError("revision 3 is older than the watch history (first kept revision 40)", Code.OutOfRange);
    };
    const client = fakeClient({ a: { kv: { watch } } });
    const it = client.watch("k", { startRevision: 3 })[Symbol.asyncIterator]();
    const err = await it.next().then(() => null, (e: unknown) => e);
    expect(err).toMatchObject({ name: "WatchCompactedError", compactRevision: 40n, requestedRevision: 3n });
  });
});
