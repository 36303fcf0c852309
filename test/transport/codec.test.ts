import { describe, expect, test } from "bun:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { FrameSchema, MessageSchema } from "../../src/gen/rbkv/raft/v1/raft_pb";
import { EntryType, type Message } from "../../src/raft/types";
import { decodeMessage, encodeMessage } from "../../src/transport/codec";
import { FrameReader, FrameTooLargeError, decodeFrame, encodeFrame } from "../../src/transport/frame";

const env = { from: "n1", to: "n2", term: 7 };
const big = 2 ** 53 - 1;

const every: Message[] = [
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
