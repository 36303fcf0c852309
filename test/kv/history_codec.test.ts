import { expect, test } from "bun:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { type Event, EventType, KeyValueSchema, WatchResponseSchema } from "../../src/gen/rbkv/v1/kv_pb";
import { type Change, toEvent } from "../../src/kv/change";
import { encodeHistoryRecord } from "../../src/kv/history_codec";
import type { StoredKv } from "../../src/kv/record";

function random(seed: number) {
  let a = seed;
  return () => {
    a = (a * 1103515245 + 12345) & 0x7fffffff;
    return a / 0x7fffffff;
  };
}

/** The event a history record holds for a change: its prev_kv as a reference (mod_revision only). */
function historyEvent(c: Change): Event {
  const event = toEvent(c);
  if (c.prev) event.prevKv = create(KeyValueSchema, { modRevision: BigInt(c.prev.modRevision) });
  return event;
}

test("hand-encoded history records are byte-identical to protobuf-es encoding the same events", () => {
  const rnd = random(7);
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256));
  const num = () => (rnd() < 0.2 ? 0 : Math.floor(rnd() * 2 ** (rnd() < 0.5 ? 12 : 45)));
  const stored = (): StoredKv => ({
    value: bytes(rnd() < 0.1 ? 300 : Math.floor(rnd() * 20)),
    createRevision: num(),
    modRevision: num(),
    version: num(),
    // Whole seconds, sub-second parts and times before 1970 (negative seconds).
    expiresAtMs: rnd() < 0.6 ? 0 : [Math.floor(rnd() * 2 ** 42), 5_000, 999, Math.floor(rnd() * 2 ** 42) * 1000][Math.floor(rnd() * 4)],
  });
  const change = (): Change => {
    const key = bytes(Math.floor(rnd() * 40));
    const kind = Math.floor(rnd() * 3);
    if (kind === 0) return { type: EventType.PUT, key, kv: stored(), prev: rnd() < 0.5 ? stored() : undefined };
    return { type: kind === 1 ? EventType.DELETE : EventType.EXPIRE, key, revision: num(), prev: stored() };
  };
  for (let i = 0; i < 500; i++) {
    const changes = Array.from({ length: 1 + Math.floor(rnd() * 4) }, change);
    const events = changes.map(historyEvent);
    const expected = toBinary(WatchResponseSchema, create(WatchResponseSchema, { events }));
    const actual = encodeHistoryRecord(changes);
    expect(actual).toEqual(expected);
    expect(fromBinary(WatchResponseSchema, actual).events).toEqual(events);
  }
});
