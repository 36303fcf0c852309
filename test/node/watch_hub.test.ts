// The watch hub on a real KvStore (no cluster): replay then live without gaps, a slow watcher cut
// off with the revision to resume from, progress notifications, and leader_required.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ResponseHeaderSchema, WatchRequestSchema, PutRequestSchema, type WatchResponse } from "../../src/gen/rbkv/v1/kv_pb";
import { encodeCommand, putCommand } from "../../src/kv/commands";
import { KvStore } from "../../src/kv/store";
import { WatchHub, DEFAULT_WATCH_OPTIONS, type WatchHubOptions } from "../../src/node/watch_hub";
import { EntryType, Role, type SoftState } from "../../src/raft/types";

const enc = (s: string) => new TextEncoder().encode(s);
let dir: string;
let kv: KvStore;
let index = 0;
let leaderListeners: ((s: SoftState) => void)[] = [];
let hasLeader = true;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "watch-hub-"));
  kv = await KvStore.open(join(dir, "kv"));
  index = 0;
  leaderListeners = [];
  hasLeader = true;
});
afterEach(async () => {
  await kv.close();
  await rm(dir, { recursive: true, force: true });
});

function hub(options: Partial<WatchHubOptions> = {}): WatchHub {
  const header = (revision?: bigint | number) => create(ResponseHeaderSchema, { revision: BigInt(revision ?? kv.revision()) });
  const onSoftState = (l: (s: SoftState) => void) => {
    leaderListeners.push(l);
    return () => (leaderListeners = leaderListeners.filter((x) => x !== l));
  };
  return new WatchHub(kv, header, onSoftState, () => hasLeader, { ...DEFAULT_WATCH_OPTIONS, ...options });
}

async function put(key: string, value: string): Promise<void> {
  const data = encodeCommand(putCommand(create(PutRequestSchema, { key: enc(key), value: enc(value) }), 0));
  await kv.applyEntries([{ term: 1, index: ++index, type: EntryType.Normal, data }]);
}

function revisions(responses: WatchResponse[]): number[] {
  return responses.flatMap((r) => r.events.map((e) => Number(e.kv?.modRevision)));
}

test("replays history from a past revision, then follows live writes, without gaps or duplicates", async () => {
  for (let i = 0; i < 5; i++) await put(`k${i}`, `v${i}`);
  const abort = new AbortController();
  const got: WatchResponse[] = [];
  const stream = hub().watch(create(WatchRequestSchema, { key: enc("k"), rangeEnd: enc("l"), startRevision: 2n }), abort.signal);
  const reading = (async () => {
    for await (const r of stream) {
      got.push(r);
      if (revisions(got).includes(8)) abort.abort();
    }
  })();
  for (let i = 5; i < 8; i++) await put(`k${i}`, `v${i}`);
  await reading;
  expect(revisions(got)).toEqual([2, 3, 4, 5, 6, 7, 8]);
});

test("a watcher that falls behind is cut off with RESOURCE_EXHAUSTED and the revision to resume from", async () => {
  await put("a", "1");
  const abort = new AbortController();
  const it = hub({ maxQueuedEvents: 3 }).watch(create(WatchRequestSchema, { key: enc("a") }), abort.signal)[Symbol.asyncIterator]();
  const first = it.next();
  await put("a", "2");
  expect(revisions([(await first).value as WatchResponse])).toEqual([2]);
  // Nobody reads while five more revisions are applied: the bounded queue overflows.
  for (let i = 3; i <= 7; i++) await put("a", String(i));
  const err = await it.next().then(
    () => null,
    (e: unknown) => ConnectError.from(e),
  );
  expect(err?.code).toBe(Code.ResourceExhausted);
  expect(err?.rawMessage).toContain("start_revision 3");
  abort.abort();
});

test("progress_notify sends an empty response with the current revision when idle", async () => {
  await put("a", "1");
  const abort = new AbortController();
  const it = hub({ progressIntervalMs: 50 }).watch(create(WatchRequestSchema, { key: enc("zzz"), progressNotify: true }), abort.signal)[Symbol.asyncIterator]();
  const r = (await it.next()).value as WatchResponse;
  expect(r.events.length).toBe(0);
  expect(r.header?.revision).toBe(1n);
  abort.abort();
});

test("leader_required: no leader at the start, or losing it later, ends the stream with UNAVAILABLE", async () => {
  hasLeader = false;
  const noLeader = await hub()
    .watch(create(WatchRequestSchema, { key: enc("a"), leaderRequired: true }), new AbortController().signal)
    [Symbol.asyncIterator]()
    .next()
    .then(() => null, (e: unknown) => ConnectError.from(e));
  expect(noLeader?.code).toBe(Code.Unavailable);

  hasLeader = true;
  const it = hub().watch(create(WatchRequestSchema, { key: enc("a"), leaderRequired: true }), new AbortController().signal)[Symbol.asyncIterator]();
  const pending = it.next().then(() => null, (e: unknown) => ConnectError.from(e));
  await Bun.sleep(20);
  for (const l of leaderListeners) l({ leader: null, role: Role.Follower, term: 2 });
  expect((await pending)?.code).toBe(Code.Unavailable);
});

test("a watch ended by the client releases its subscription", async () => {
  const abort = new AbortController();
  const it = hub().watch(create(WatchRequestSchema, { key: enc("a"), leaderRequired: true }), abort.signal)[Symbol.asyncIterator]();
  const pending = it.next();
  await Bun.sleep(10);
  expect(leaderListeners.length).toBe(1);
  abort.abort();
  expect((await pending).done).toBe(true);
  expect(leaderListeners.length).toBe(0);
});

test("a snapshot installed under a live watch: the skipped revisions come from the history it brought", async () => {
  const other = await KvStore.open(join(dir, "other"));
  let otherIndex = 0;
  for (let i = 1; i <= 5; i++) {
    const data = encodeCommand(putCommand(create(PutRequestSchema, { key: enc(`s${i}`), value: enc(`v${i}`) }), 0));
    await other.applyEntries([{ term: 1, index: ++otherIndex, type: EntryType.Normal, data }]);
  }
  await put("s1", "v1");
  const abort = new AbortController();
  const got: WatchResponse[] = [];
  const reading = (async () => {
    for await (const r of hub().watch(create(WatchRequestSchema, { key: enc("s"), rangeEnd: enc("t"), startRevision: 1n }), abort.signal)) {
      got.push(r);
      if (revisions(got).includes(5)) abort.abort();
    }
  })();
  await Bun.sleep(20);
  await KvStore.installSnapshot(join(dir, "staged"), other.createSnapshotStream());
  await other.close();
  await kv.replaceWith(join(dir, "staged"));
  await reading;
  expect(revisions(got)).toEqual([1, 2, 3, 4, 5]);
});

test("replayed events carry prev_kv only when the watch asks for it, across history records", async () => {
  for (let i = 0; i < 6; i++) await put("p", `v${i}`); // one record per revision: prevs come from earlier records
  const replay = async (prevKv: boolean) => {
    const abort = new AbortController();
    const events = [];
    for await (const r of hub({ historyPageEvents: 2 }).watch(create(WatchRequestSchema, { key: enc("p"), startRevision: 3n, prevKv }), abort.signal)) {
      events.push(...r.events);
      if (events.length >= 4) abort.abort();
    }
    return events;
  };
  const withPrev = await replay(true);
  expect(withPrev.map((e) => [Number(e.kv?.modRevision), new TextDecoder().decode(e.prevKv?.value)])).toEqual([
    [3, "v1"],
    [4, "v2"],
    [5, "v3"],
    [6, "v4"],
  ]);
  expect(withPrev.map((e) => Number(e.prevKv?.modRevision))).toEqual([2, 3, 4, 5]);
  expect((await replay(false)).some((e) => e.prevKv !== undefined)).toBe(false);
});
