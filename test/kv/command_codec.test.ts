import { expect, test } from "bun:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { CommandSchema, PutCommandSchema } from "../../src/gen/rbkv/raft/v1/raft_pb";
import { DeleteRequestSchema } from "../../src/gen/rbkv/v1/kv_pb";
import { decodeCommand, encodeCommand } from "../../src/kv/command_codec";

function random(seed: number) {
  let a = seed;
  return () => {
    a = (a * 1103515245 + 12345) & 0x7fffffff;
    return a / 0x7fffffff;
  };
}

const SIZES = [0, 1, 5, 127, 128, 300, 16_383, 16_384, 70_000];

test("hand-encoded put commands are byte-identical to protobuf-es and decode to the same Command", () => {
  const rnd = random(11);
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256));
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
  for (let i = 0; i < 400; i++) {
    const cmd = create(CommandSchema, {
      command: {
        case: "put",
        value: create(PutCommandSchema, {
          key: bytes(pick(SIZES.slice(0, 7))),
          value: bytes(pick(SIZES)),
          expiresAtMs: rnd() < 0.5 ? 0n : BigInt(pick([1, 127, 128, Date.now(), 2 ** 48 - 1])),
          prevKv: rnd() < 0.5,
        }),
      },
      nowMs: rnd() < 0.2 ? 0n : BigInt(pick([1, 300, Date.now()])),
    });
    const expected = toBinary(CommandSchema, cmd);
    const got = encodeCommand(cmd);
    expect(got).toEqual(expected);
    expect(decodeCommand(got)).toEqual(fromBinary(CommandSchema, expected));
  }
});

test("commands other than a plain put take protobuf-es's path and come back the same", () => {
  const del = create(CommandSchema, { command: { case: "delete", value: create(DeleteRequestSchema, { key: new Uint8Array([1, 2]) }) }, nowMs: 5n });
  expect(decodeCommand(encodeCommand(del))).toEqual(fromBinary(CommandSchema, toBinary(CommandSchema, del)));
  const empty = create(CommandSchema, { nowMs: 9n });
  expect(decodeCommand(encodeCommand(empty))).toEqual(empty);
  // Beyond the fast varint range: still exact.
  const far = create(CommandSchema, { command: { case: "put", value: { key: new Uint8Array([1]), expiresAtMs: 2n ** 60n } }, nowMs: 2n ** 63n });
  expect(encodeCommand(far)).toEqual(toBinary(CommandSchema, far));
  expect(decodeCommand(encodeCommand(far))).toEqual(far);
});

test("unusual but valid encodings decode exactly as protobuf-es decodes them", () => {
  const put = (fields: number[]) => Uint8Array.from([0x0a, fields.length, ...fields]);
  const cases: Uint8Array[] = [
    // now_ms before put
    Uint8Array.from([0x78, 0x05, ...put([0x0a, 0x01, 0x61])]),
    // value before key, prev_kv set
    put([0x12, 0x01, 0x62, 0x0a, 0x01, 0x61, 0x20, 0x01]),
    // the put field twice: protobuf merges the two messages
    Uint8Array.from([...put([0x0a, 0x01, 0x61]), ...put([0x12, 0x01, 0x62])]),
    // key twice: the last wins
    put([0x0a, 0x01, 0x61, 0x0a, 0x01, 0x63]),
    // an unknown field inside the put
    put([0x0a, 0x01, 0x61, 0x28, 0x07]),
    // an unknown field at the top
    Uint8Array.from([...put([0x0a, 0x01, 0x61]), 0x30, 0x01]),
    // a bool encoded as 2
    put([0x20, 0x02]),
    // non-minimal varint for a length
    put([0x0a, 0x81, 0x00, 0x61]),
    // an empty put
    Uint8Array.from([0x0a, 0x00]),
  ];
  for (const data of cases) {
    expect(decodeCommand(data)).toEqual(fromBinary(CommandSchema, data));
  }
});

test("malformed commands are refused the way protobuf-es refuses them", () => {
  for (const data of [Uint8Array.from([0x0a, 0x05, 0x0a]), Uint8Array.from([0x0a, 0x03, 0x0a, 0x09, 0x61]), Uint8Array.from([0x78])]) {
    expect(() => fromBinary(CommandSchema, data)).toThrow();
    expect(() => decodeCommand(data)).toThrow();
  }
});
