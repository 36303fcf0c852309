// Hot-path codec: core Messages straight to and from the rbkv.raft.v1.Frame wire format, without
// building protobuf-es objects (which costs tens of microseconds per message). The output is the
// same canonical encoding protobuf-es produces; codec.ts stays the reference and the tests check
// both agree. Snapshot chunks, acks and the Hello are rare and use the generated code.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  FrameSchema,
  HelloSchema,
  SnapshotChunkAckSchema,
  SnapshotChunkSchema,
  type Hello,
  type SnapshotChunk,
  type SnapshotChunkAck,
} from "../gen/rbkv/raft/v1/raft_pb";
import { EntryType, type Entry, type Message, type SnapshotMeta } from "../raft/types";
import { prefixLength } from "./frame";
import {
  WIRE_LEN,
  WIRE_VARINT,
  WireFormatError,
  WireReader,
  WireWriter,
  boolFieldSize,
  bytesFieldSize,
  messageFieldSize,
  uintFieldSize,
  utf8,
} from "./proto_wire";

const HEADER_BYTES = 4;
const FRAME_MESSAGES = 1;
const FRAME_SNAPSHOT_CHUNKS = 2;
const FRAME_SNAPSHOT_CHUNK_ACKS = 3;
const FRAME_HELLO = 4;

/** Field number of each body case in rbkv.raft.v1.Message. */
const BODY_FIELD: Record<Message["type"], number> = {
  vote: 4,
  preVote: 5,
  voteResp: 6,
  preVoteResp: 7,
  app: 8,
  appResp: 9,
  heartbeat: 10,
  heartbeatResp: 11,
  snap: 12,
  readIndex: 13,
  readIndexResp: 14,
  timeoutNow: 15,
};
const BODY_TYPE: Record<number, Message["type"]> = Object.fromEntries(
  Object.entries(BODY_FIELD).map(([type, field]) => [field, type as Message["type"]]),
);

/** Proto enum values of EntryType (ENTRY_TYPE_NORMAL = 1, ENTRY_TYPE_CONF_CHANGE = 2). */
const PB_NORMAL = 1;
const PB_CONF_CHANGE = 2;

/** A decoded Frame: Raft messages in core form, the rest as generated protobuf objects. */
export interface DecodedFrame {
  messages: Message[];
  snapshotChunks: SnapshotChunk[];
  snapshotChunkAcks: SnapshotChunkAck[];
  hello: Hello | undefined;
}

// ---- encoding ------------------------------------------------------------------------------

/** Length prefix + a Frame holding `msgs`, in one buffer ready for one socket write. */
export function encodeMessagesFrame(msgs: readonly Message[]): Uint8Array {
  const sizes = new Array<number>(msgs.length);
  let bodyBytes = 0;
  for (let i = 0; i < msgs.length; i++) {
    sizes[i] = messageSize(msgs[i]);
    bodyBytes += messageFieldSize(FRAME_MESSAGES, sizes[i]);
  }
  const out = new Uint8Array(HEADER_BYTES + bodyBytes);
  new DataView(out.buffer).setUint32(0, bodyBytes, false);
  const w = new WireWriter(out, HEADER_BYTES);
  for (let i = 0; i < msgs.length; i++) {
    w.messageHeader(FRAME_MESSAGES, sizes[i]);
    writeMessage(w, msgs[i]);
  }
  if (w.pos !== out.length) throw new WireFormatError(`frame size mismatch: wrote ${w.pos} of ${out.length}`);
  return out;
}

/** Encoded size of one Message (without its field header in the Frame). */
export function messageSize(m: Message): number {
  return (
    bytesFieldSize(1, utf8(m.from).length) +
    bytesFieldSize(2, utf8(m.to).length) +
    uintFieldSize(3, m.term) +
    messageFieldSize(BODY_FIELD[m.type], bodySize(m))
  );
}

function bodySize(m: Message): number {
  switch (m.type) {
    case "vote":
    case "preVote":
      return uintFieldSize(1, m.lastIndex) + uintFieldSize(2, m.lastTerm) + boolFieldSize(3, m.transfer);
    case "voteResp":
    case "preVoteResp":
      return boolFieldSize(1, m.reject);
    case "app": {
      let n = uintFieldSize(1, m.prevIndex) + uintFieldSize(2, m.prevTerm) + uintFieldSize(4, m.commit);
      for (const e of m.entries) n += messageFieldSize(3, entrySize(e));
      return n;
    }
    case "appResp":
      return boolFieldSize(1, m.reject) + uintFieldSize(2, m.index) + uintFieldSize(3, m.hintIndex) + uintFieldSize(4, m.hintTerm);
    case "heartbeat":
      return uintFieldSize(1, m.commit) + uintFieldSize(2, m.readSeq);
    case "heartbeatResp":
      return uintFieldSize(1, m.readSeq);
    case "snap":
      return m.snapshot ? messageFieldSize(1, snapshotMetaSize(m.snapshot)) : 0;
    case "readIndex":
      return bytesFieldSize(1, utf8(m.ctx).length);
    case "readIndexResp":
      return bytesFieldSize(1, utf8(m.ctx).length) + uintFieldSize(2, m.index) + boolFieldSize(3, m.reject);
    case "timeoutNow":
      return 0;
  }
}

function entrySize(e: Entry): number {
  return uintFieldSize(1, e.term) + uintFieldSize(2, e.index) + uintFieldSize(3, pbEntryType(e.type)) + bytesFieldSize(4, e.data.length);
}

function confStateSize(voters: readonly string[], learners: readonly string[]): number {
  let n = 0;
  for (const v of voters) n += messageFieldSize(1, utf8(v).length);
  for (const l of learners) n += messageFieldSize(2, utf8(l).length);
  return n;
}

function snapshotMetaSize(s: SnapshotMeta): number {
  return uintFieldSize(1, s.index) + uintFieldSize(2, s.term) + messageFieldSize(3, confStateSize(s.conf.voters, s.conf.learners));
}

function writeMessage(w: WireWriter, m: Message): void {
  w.bytesField(1, utf8(m.from));
  w.bytesField(2, utf8(m.to));
  w.uintField(3, m.term);
  w.messageHeader(BODY_FIELD[m.type], bodySize(m));
  switch (m.type) {
    case "vote":
    case "preVote":
      w.uintField(1, m.lastIndex);
      w.uintField(2, m.lastTerm);
      w.boolField(3, m.transfer);
      return;
    case "voteResp":
    case "preVoteResp":
      w.boolField(1, m.reject);
      return;
    case "app":
      w.uintField(1, m.prevIndex);
      w.uintField(2, m.prevTerm);
      for (const e of m.entries) {
        w.messageHeader(3, entrySize(e));
        w.uintField(1, e.term);
        w.uintField(2, e.index);
        w.uintField(3, pbEntryType(e.type));
        w.bytesField(4, e.data);
      }
      w.uintField(4, m.commit);
      return;
    case "appResp":
      w.boolField(1, m.reject);
      w.uintField(2, m.index);
      w.uintField(3, m.hintIndex);
      w.uintField(4, m.hintTerm);
      return;
    case "heartbeat":
      w.uintField(1, m.commit);
      w.uintField(2, m.readSeq);
      return;
    case "heartbeatResp":
      w.uintField(1, m.readSeq);
      return;
    case "snap":
      if (m.snapshot) {
        const s = m.snapshot;
        w.messageHeader(1, snapshotMetaSize(s));
        w.uintField(1, s.index);
        w.uintField(2, s.term);
        w.messageHeader(3, confStateSize(s.conf.voters, s.conf.learners));
        // Repeated strings are written even when empty.
        for (const v of s.conf.voters) w.lengthDelimitedField(1, utf8(v));
        for (const l of s.conf.learners) w.lengthDelimitedField(2, utf8(l));
      }
      return;
    case "readIndex":
      w.bytesField(1, utf8(m.ctx));
      return;
    case "readIndexResp":
      w.bytesField(1, utf8(m.ctx));
      w.uintField(2, m.index);
      w.boolField(3, m.reject);
      return;
    case "timeoutNow":
      return;
  }
}

function pbEntryType(t: EntryType): number {
  return t === EntryType.ConfChange ? PB_CONF_CHANGE : PB_NORMAL;
}

/** Length prefix + a Frame holding only `chunk`. */
export function encodeChunkFrame(chunk: SnapshotChunk): Uint8Array {
  return prefixLength(toBinary(FrameSchema, create(FrameSchema, { snapshotChunks: [chunk] })));
}

export function encodeAckFrame(ack: SnapshotChunkAck): Uint8Array {
  return prefixLength(toBinary(FrameSchema, create(FrameSchema, { snapshotChunkAcks: [ack] })));
}

export function encodeHelloFrame(hello: Hello): Uint8Array {
  return prefixLength(toBinary(FrameSchema, create(FrameSchema, { hello })));
}


// ---- decoding ------------------------------------------------------------------------------

/** Decodes a Frame payload. Entry data and chunk data share memory with `payload`. */
export function decodeWireFrame(payload: Uint8Array): DecodedFrame {
  const frame: DecodedFrame = { messages: [], snapshotChunks: [], snapshotChunkAcks: [], hello: undefined };
  const r = new WireReader(payload);
  while (!r.done()) {
    const key = r.varint();
    const field = Math.floor(key / 8);
    const wireType = key & 7;
    if (wireType !== WIRE_LEN || field < FRAME_MESSAGES || field > FRAME_HELLO) {
      r.skip(wireType);
      continue;
    }
    const [start, end] = r.lengthDelimited();
    switch (field) {
      case FRAME_MESSAGES:
        frame.messages.push(readMessage(new WireReader(payload, start, end)));
        break;
      case FRAME_SNAPSHOT_CHUNKS:
        frame.snapshotChunks.push(fromBinary(SnapshotChunkSchema, payload.subarray(start, end)));
        break;
      case FRAME_SNAPSHOT_CHUNK_ACKS:
        frame.snapshotChunkAcks.push(fromBinary(SnapshotChunkAckSchema, payload.subarray(start, end)));
        break;
      case FRAME_HELLO:
        frame.hello = fromBinary(HelloSchema, payload.subarray(start, end));
        break;
    }
  }
  return frame;
}

function readMessage(r: WireReader): Message {
  let from = "";
  let to = "";
  let term = 0;
  let type: Message["type"] | undefined;
  let body: WireReader | undefined;
  while (!r.done()) {
    const key = r.varint();
    const field = Math.floor(key / 8);
    const wireType = key & 7;
    if (field === 1 && wireType === WIRE_LEN) from = r.string();
    else if (field === 2 && wireType === WIRE_LEN) to = r.string();
    else if (field === 3 && wireType === WIRE_VARINT) term = r.varint();
    else if (wireType === WIRE_LEN && BODY_TYPE[field] !== undefined) {
      const [start, end] = r.lengthDelimited();
      type = BODY_TYPE[field];
      body = new WireReader(r.buf, start, end);
    } else r.skip(wireType);
  }
  if (type === undefined || body === undefined) throw new WireFormatError(`raft message from ${from} to ${to} has no body`);
  const env = { from, to, term };
  // Every body is a flat list of fields; collect them by number, then shape the message.
  const f = readFields(body, type);
  switch (type) {
    case "vote":
    case "preVote":
      return { ...env, type, lastIndex: f.n[1], lastTerm: f.n[2], transfer: f.n[3] !== 0 };
    case "voteResp":
    case "preVoteResp":
      return { ...env, type, reject: f.n[1] !== 0 };
    case "app":
      return { ...env, type, prevIndex: f.n[1], prevTerm: f.n[2], entries: f.entries, commit: f.n[4] };
    case "appResp":
      return { ...env, type, reject: f.n[1] !== 0, index: f.n[2], hintIndex: f.n[3], hintTerm: f.n[4] };
    case "heartbeat":
      return { ...env, type, commit: f.n[1], readSeq: f.n[2] };
    case "heartbeatResp":
      return { ...env, type, readSeq: f.n[1] };
    case "snap":
      return f.snapshot ? { ...env, type, snapshot: f.snapshot } : { ...env, type };
    case "readIndex":
      return { ...env, type, ctx: f.ctx };
    case "readIndexResp":
      return { ...env, type, ctx: f.ctx, index: f.n[2], reject: f.n[3] !== 0 };
    case "timeoutNow":
      return { ...env, type };
  }
}

interface BodyFields {
  /** Varint fields 1..4 by number (0 when absent). */
  n: [number, number, number, number, number];
  entries: Entry[];
  ctx: string;
  snapshot: SnapshotMeta | undefined;
}

function readFields(r: WireReader, type: Message["type"]): BodyFields {
  const f: BodyFields = { n: [0, 0, 0, 0, 0], entries: [], ctx: "", snapshot: undefined };
  while (!r.done()) {
    const key = r.varint();
    const field = Math.floor(key / 8);
    const wireType = key & 7;
    if (wireType === WIRE_VARINT && field >= 1 && field <= 4) f.n[field] = r.varint();
    else if (wireType === WIRE_LEN && type === "app" && field === 3) {
      const [start, end] = r.lengthDelimited();
      f.entries.push(readEntry(new WireReader(r.buf, start, end)));
    } else if (wireType === WIRE_LEN && field === 1 && (type === "readIndex" || type === "readIndexResp")) f.ctx = r.string();
    else if (wireType === WIRE_LEN && field === 1 && type === "snap") {
      const [start, end] = r.lengthDelimited();
      f.snapshot = readSnapshotMeta(new WireReader(r.buf, start, end));
    } else r.skip(wireType);
  }
  return f;
}

function readEntry(r: WireReader): Entry {
  let term = 0;
  let index = 0;
  let pbType = 0;
  let data: Uint8Array = EMPTY;
  while (!r.done()) {
    const key = r.varint();
    const field = Math.floor(key / 8);
    const wireType = key & 7;
    if (wireType === WIRE_VARINT && field === 1) term = r.varint();
    else if (wireType === WIRE_VARINT && field === 2) index = r.varint();
    else if (wireType === WIRE_VARINT && field === 3) pbType = r.varint();
    else if (wireType === WIRE_LEN && field === 4) data = r.bytes();
    else r.skip(wireType);
  }
  if (pbType !== PB_NORMAL && pbType !== PB_CONF_CHANGE) throw new WireFormatError(`unknown entry type ${pbType}`);
  return { term, index, type: pbType === PB_CONF_CHANGE ? EntryType.ConfChange : EntryType.Normal, data };
}

function readSnapshotMeta(r: WireReader): SnapshotMeta {
  const meta: SnapshotMeta = { index: 0, term: 0, conf: { voters: [], learners: [] } };
  while (!r.done()) {
    const key = r.varint();
    const field = Math.floor(key / 8);
    const wireType = key & 7;
    if (wireType === WIRE_VARINT && field === 1) meta.index = r.varint();
    else if (wireType === WIRE_VARINT && field === 2) meta.term = r.varint();
    else if (wireType === WIRE_LEN && field === 3) {
      const [start, end] = r.lengthDelimited();
      const c = new WireReader(r.buf, start, end);
      while (!c.done()) {
        const ck = c.varint();
        if (ck === ((1 << 3) | WIRE_LEN)) meta.conf.voters.push(c.string());
        else if (ck === ((2 << 3) | WIRE_LEN)) meta.conf.learners.push(c.string());
        else c.skip(ck & 7);
      }
    } else r.skip(wireType);
  }
  return meta;
}

const EMPTY = new Uint8Array(0);
