// Conversion between the Raft core's Message union (src/raft/types.ts) and its protobuf form
// (rbkv.raft.v1.Message). Indexes and terms are numbers in the core and uint64 (bigint) on the
// wire; they stay below 2^53, so Number() is exact.
import { create } from "@bufbuild/protobuf";
import {
  AppendResponseSchema,
  AppendSchema,
  ConfStateSchema,
  EntrySchema,
  EntryType as PbEntryType,
  HeartbeatResponseSchema,
  HeartbeatSchema,
  InstallSnapshotSchema,
  MessageSchema,
  ReadIndexResponseSchema,
  ReadIndexSchema,
  SnapshotMetaSchema,
  TimeoutNowSchema,
  VoteResponseSchema,
  VoteSchema,
  type Entry as PbEntry,
  type Message as PbMessage,
  type SnapshotMeta as PbSnapshotMeta,
} from "../gen/rbkv/raft/v1/raft_pb";
import { EntryType, type Entry, type Message, type SnapshotMeta } from "../raft/types";

/** A protobuf message that cannot be turned into a core Message (unknown body, bad enum). */
export class MessageDecodeError extends Error {
  override name = "MessageDecodeError";
}

export function encodeMessage(m: Message): PbMessage {
  const out = create(MessageSchema, { from: m.from, to: m.to, term: BigInt(m.term) });
  switch (m.type) {
    case "vote":
    case "preVote":
      out.body = {
        case: m.type,
        value: create(VoteSchema, { lastIndex: BigInt(m.lastIndex), lastTerm: BigInt(m.lastTerm), transfer: m.transfer }),
      };
      break;
    case "voteResp":
    case "preVoteResp":
      out.body = { case: m.type, value: create(VoteResponseSchema, { reject: m.reject }) };
      break;
    case "app":
      out.body = {
        case: "app",
        value: create(AppendSchema, {
          prevIndex: BigInt(m.prevIndex),
          prevTerm: BigInt(m.prevTerm),
          entries: m.entries.map(encodeEntry),
          commit: BigInt(m.commit),
        }),
      };
      break;
    case "appResp":
      out.body = {
        case: "appResp",
        value: create(AppendResponseSchema, {
          reject: m.reject,
          index: BigInt(m.index),
          hintIndex: BigInt(m.hintIndex),
          hintTerm: BigInt(m.hintTerm),
        }),
      };
      break;
    case "heartbeat":
      out.body = {
        case: "heartbeat",
        value: create(HeartbeatSchema, { commit: BigInt(m.commit), readSeq: BigInt(m.readSeq) }),
      };
      break;
    case "heartbeatResp":
      out.body = { case: "heartbeatResp", value: create(HeartbeatResponseSchema, { readSeq: BigInt(m.readSeq) }) };
      break;
    case "snap":
      out.body = {
        case: "snap",
        value: create(InstallSnapshotSchema, m.snapshot ? { snapshot: encodeSnapshotMeta(m.snapshot) } : {}),
      };
      break;
    case "readIndex":
      out.body = { case: "readIndex", value: create(ReadIndexSchema, { ctx: m.ctx }) };
      break;
    case "readIndexResp":
      out.body = {
        case: "readIndexResp",
        value: create(ReadIndexResponseSchema, { ctx: m.ctx, index: BigInt(m.index), reject: m.reject }),
      };
      break;
    case "timeoutNow":
      out.body = { case: "timeoutNow", value: create(TimeoutNowSchema) };
      break;
    default:
      return assertNever(m);
  }
  return out;
}

export function decodeMessage(pb: PbMessage): Message {
  const env = { from: pb.from, to: pb.to, term: Number(pb.term) };
  const body = pb.body;
  switch (body.case) {
    case "vote":
    case "preVote":
      return {
        ...env,
        type: body.case,
        lastIndex: Number(body.value.lastIndex),
        lastTerm: Number(body.value.lastTerm),
        transfer: body.value.transfer,
      };
    case "voteResp":
    case "preVoteResp":
      return { ...env, type: body.case, reject: body.value.reject };
    case "app":
      return {
        ...env,
        type: "app",
        prevIndex: Number(body.value.prevIndex),
        prevTerm: Number(body.value.prevTerm),
        entries: body.value.entries.map(decodeEntry),
        commit: Number(body.value.commit),
      };
    case "appResp":
      return {
        ...env,
        type: "appResp",
        reject: body.value.reject,
        index: Number(body.value.index),
        hintIndex: Number(body.value.hintIndex),
        hintTerm: Number(body.value.hintTerm),
      };
    case "heartbeat":
      return { ...env, type: "heartbeat", commit: Number(body.value.commit), readSeq: Number(body.value.readSeq) };
    case "heartbeatResp":
      return { ...env, type: "heartbeatResp", readSeq: Number(body.value.readSeq) };
    case "snap": {
      const snapshot = body.value.snapshot;
      return snapshot ? { ...env, type: "snap", snapshot: decodeSnapshotMeta(snapshot) } : { ...env, type: "snap" };
    }
    case "readIndex":
      return { ...env, type: "readIndex", ctx: body.value.ctx };
    case "readIndexResp":
      return {
        ...env,
        type: "readIndexResp",
        ctx: body.value.ctx,
        index: Number(body.value.index),
        reject: body.value.reject,
      };
    case "timeoutNow":
      return { ...env, type: "timeoutNow" };
    case undefined:
      throw new MessageDecodeError(`raft message from ${pb.from} to ${pb.to} has no body`);
    default:
      return assertNever(body);
  }
}

function encodeEntry(e: Entry): PbEntry {
  return create(EntrySchema, {
    term: BigInt(e.term),
    index: BigInt(e.index),
    type: encodeEntryType(e.type),
    data: e.data,
  });
}

function decodeEntry(e: PbEntry): Entry {
  return { term: Number(e.term), index: Number(e.index), type: decodeEntryType(e.type), data: e.data };
}

function encodeEntryType(t: EntryType): PbEntryType {
  switch (t) {
    case EntryType.Normal:
      return PbEntryType.NORMAL;
    case EntryType.ConfChange:
      return PbEntryType.CONF_CHANGE;
    default:
      return assertNever(t);
  }
}

function decodeEntryType(t: PbEntryType): EntryType {
  switch (t) {
    case PbEntryType.NORMAL:
      return EntryType.Normal;
    case PbEntryType.CONF_CHANGE:
      return EntryType.ConfChange;
    default:
      throw new MessageDecodeError(`unknown entry type ${t}`);
  }
}

export function encodeSnapshotMeta(s: SnapshotMeta): PbSnapshotMeta {
  return create(SnapshotMetaSchema, {
    index: BigInt(s.index),
    term: BigInt(s.term),
    conf: create(ConfStateSchema, { voters: [...s.conf.voters], learners: [...s.conf.learners] }),
  });
}

export function decodeSnapshotMeta(s: PbSnapshotMeta): SnapshotMeta {
  return {
    index: Number(s.index),
    term: Number(s.term),
    conf: { voters: [...(s.conf?.voters ?? [])], learners: [...(s.conf?.learners ?? [])] },
  };
}

function assertNever(x: never): never {
  throw new MessageDecodeError(`unexpected value ${JSON.stringify(x)}`);
}

export {
  DEFAULT_MAX_FRAME_BYTES,
  FrameReader,
  FrameTooLargeError,
  decodeFrame,
  encodeFrame,
} from "./frame";
