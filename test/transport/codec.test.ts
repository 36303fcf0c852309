import { describe, expect, test } from "bun:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { FrameSchema, MessageSchema } from "../../src/gen/rbkv/raft/v1/raft_pb";
import { EntryType, type Message } from "../../src/raft/types";
import { decodeMessage, encodeMessage } from "../../src/transport/codec";
import { FrameReader, FrameTooLargeError, decodeFrame, encodeFrame } from "../../src/transport/frame";
import { decodeWireFrame, encodeMessagesFrame } from "../../src/transport/message_wire";

const env = { from: "n1", to: "n2", term: 7 };
const big = 2 ** 53 - 1;

export const every: Message[] = [
  { ...env, type: "vote", lastIndex: 10, lastTerm: 6, transfer: false },
  { ...env, type: "preVote", lastIndex: big, lastTerm: 3, transfer: true },
  { ...env, type: "voteResp", reject: true },
  { ...env, type: "preVoteResp", reject: false },
  {
    ...env,
    type: "app",
    prevIndex: 41,
    prevTerm: 6,
    commit: 40,
    entries: [
      { term: 7, index: 42, type: EntryType.Normal, data: new Uint8Array([1, 2, 3]) },
      { term: 7, index: 43, type: EntryType.ConfChange, data: new TextEncoder().encode("conf") },
      { term: 7, index: 44, type: EntryType.Normal, data: new Uint8Array(0) },
    ],
  },
  { ...env, type: "app", prevIndex: 0, prevTerm: 0, commit: 0, entries: [] },
  { ...env, type: "appResp", reject: true, index: 99, hintIndex: 80, hintTerm: 5 },
  { ...env, type: "heartbeat", commit: 12, readSeq: 3 },
  { ...env, type: "heartbeatResp", readSeq: 3 },
  { ...env, type: "snap" },
  { ...env, type: "snap", snapshot: { index: 500, term: 6, conf: { voters: ["n1", "n2", "n3"], learners: ["n4"] } } },
  { ...env, type: "readIndex", ctx: "req-17" },
  { ...env, type: "readIndexResp", ctx: "req-17", index: 55, reject: false },
  { ...env, type: "timeoutNow" },
];

describe("message codec", () => {
  for (const m of every) {
    test(`round trip: ${m.type}${m.type === "snap" && m.snapshot ? " with meta" : ""}`, () => {
      const wire = toBinary(MessageSchema, encodeMessage(m));
      expect(decodeMessage(fromBinary(MessageSchema, wire))).toEqual(m);
    });
  }

  test("entry types map to the proto enum (Normal=1, ConfChange=2 on the wire)", () => {
    const pb = encodeMessage(every[4]);
    if (pb.body.case !== "app") throw new Error("expected app");
    expect(pb.body.value.entries.map((e) => e.type)).toEqual([1, 2, 1]);
  });

  test("a message without a body is refused", () => {
    expect(() => decodeMessage(create(MessageSchema, { from: "a", to: "b" }))).toThrow(/no body/);
  });
});

describe("framing", () => {
  const frameOf = (msgs: Message[]) => encodeFrame(create(FrameSchema, { messages: msgs.map(encodeMessage) }));

  test("a frame is a 4-byte big-endian length then the Frame bytes", () => {
    const bytes = frameOf(every);
    const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, false);
    expect(length).toBe(bytes.length - 4);
    expect(decodeFrame(bytes.subarray(4)).messages.map(decodeMessage)).toEqual(every);
  });

  test("reader handles partial reads and several frames in one read", () => {
    const frames = [frameOf(every.slice(0, 3)), frameOf([]), frameOf(every.slice(3)), frameOf(every.slice(5, 6))];
    const stream = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
    let pos = 0;
    for (const f of frames) {
      stream.set(f, pos);
      pos += f.length;
    }
    // Every split size from one byte up to the whole stream at once.
    for (const step of [1, 2, 3, 5, 7, 64, stream.length]) {
      const reader = new FrameReader();
      const got: Message[][] = [];
      for (let i = 0; i < stream.length; i += step) {
        for (const payload of reader.push(stream.slice(i, i + step))) got.push(decodeFrame(payload).messages.map(decodeMessage));
      }
      expect(got).toEqual([every.slice(0, 3), [], every.slice(3), every.slice(5, 6)]);
      expect(reader.bufferedBytes()).toBe(0);
    }
  });

  test("reader refuses a length prefix above the limit", () => {
    const reader = new FrameReader(1024);
    const header = new Uint8Array([0, 0, 4, 1]);
    expect(() => reader.push(header)).toThrow(FrameTooLargeError);
  });
});

describe("hot-path wire codec agrees with protobuf-es", () => {
  const reference = (msgs: Message[]) => toBinary(FrameSchema, create(FrameSchema, { messages: msgs.map(encodeMessage) }));

  test("encodes every message type to the same bytes", () => {
    for (const m of every) expect(encodeMessagesFrame([m]).subarray(4)).toEqual(reference([m]));
    expect(encodeMessagesFrame(every).subarray(4)).toEqual(reference(every));
  });

  test("decodes what protobuf-es encodes", () => {
    expect(decodeWireFrame(reference(every)).messages).toEqual(every);
  });

  test("random messages round trip both ways", () => {
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const num = () => [0, 1, 127, 128, 16383, 16384, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 35 + 7, 2 ** 53 - 1][rand(11)];
    const id = () => ["", "n1", "node-ä", "x".repeat(70)][rand(4)];
    const msgs: Message[] = [];
    for (let i = 0; i < 500; i++) {
      const env = { from: id(), to: id(), term: num() };
      const entries = Array.from({ length: rand(4) }, () => ({
        term: num(),
        index: num(),
        type: rand(2) === 0 ? EntryType.Normal : EntryType.ConfChange,
        data: new Uint8Array(rand(300)).map(() => rand(256)),
      }));
      const options: Message[] = [
        { ...env, type: "app", prevIndex: num(), prevTerm: num(), commit: num(), entries },
        { ...env, type: "appResp", reject: rand(2) === 1, index: num(), hintIndex: num(), hintTerm: num() },
        { ...env, type: "vote", lastIndex: num(), lastTerm: num(), transfer: rand(2) === 1 },
        { ...env, type: "readIndexResp", ctx: id(), index: num(), reject: rand(2) === 1 },
        { ...env, type: "snap", snapshot: { index: num(), term: num(), conf: { voters: [id(), id()], learners: [id()] } } },
      ];
      msgs.push(options[rand(options.length)]);
    }
    expect(encodeMessagesFrame(msgs).subarray(4)).toEqual(reference(msgs));
    expect(decodeWireFrame(reference(msgs)).messages).toEqual(msgs);
    expect(decodeFrame(encodeMessagesFrame(msgs).subarray(4)).messages.map(decodeMessage)).toEqual(msgs);
  });
});
