import { expect, test } from "bun:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { EventSchema, EventType, KeyValueSchema, WatchResponseSchema } from "../../src/gen/rbkv/v1/kv_pb";
import { encodeHistoryRecord } from "../../src/kv/history_codec";

function random(seed: number) {
  let a = seed;
  return () => {
    a = (a * 1103515245 + 12345) & 0x7fffffff;
    return a / 0x7fffffff;
  };
}

test("hand-encoded history records are byte-identical to protobuf-es", () => {
  const rnd = random(7);
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256));
  const big = () => BigInt(Math.floor(rnd() * 2 ** 40)) * (rnd() < 0.2 ? 0n : 1n);
  const kv = () =>
    create(KeyValueSchema, {
      key: bytes(Math.floor(rnd() * 40)),
      value: bytes(rnd() < 0.1 ? 300 : Math.floor(rnd() * 20)),
      createRevision: big(),
      modRevision: big(),
      version: big(),
      expiresAt: rnd() < 0.3 ? timestampFromMs(Math.floor(rnd() * 2 ** 42)) : undefined,
    });
  for (let i = 0; i < 500; i++) {
    const events = Array.from({ length: 1 + Math.floor(rnd() * 4) }, () =>
      create(EventSchema, { type: [EventType.PUT, EventType.DELETE, EventType.EXPIRE, EventType.UNSPECIFIED][Math.floor(rnd() * 4)], kv: kv(), prevKv: rnd() < 0.5 ? kv() : undefined }),
    );
    const expected = toBinary(WatchResponseSchema, create(WatchResponseSchema, { events }));
    const actual = encodeHistoryRecord(events);
    expect(actual).toEqual(expected);
    expect(fromBinary(WatchResponseSchema, actual).events.length).toBe(events.length);
  }
});
