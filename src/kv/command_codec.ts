// Commands in the Raft log, with a hand-written codec for the common one (a Command holding a
// PutCommand): every member decodes every entry, and protobuf-es's generic reader costs more per
// put than the rest of the apply. The bytes are exactly what toBinary(CommandSchema, ...) writes,
// and the decoder only takes what it fully understands (each known field at most once, no unknown
// fields); anything else goes to fromBinary, so both paths give the same Command (tested).
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { type Command, CommandSchema, type PutCommand } from "../gen/rbkv/raft/v1/raft_pb";
import { ProtoWriter, readFlatMessage, varintSize } from "./varint";

const TAG_PUT = 0x0a; // field 1, length-delimited
const TAG_NOW_MS = 0x78; // field 15, varint
const TAG_KEY = 0x0a;
const TAG_VALUE = 0x12;
const TAG_EXPIRES = 0x18;
const TAG_PREV_KV = 0x20;

export function encodeCommand(cmd: Command): Uint8Array {
  if (cmd.command.case !== "put" || hasUnknown(cmd) || hasUnknown(cmd.command.value)) return toBinary(CommandSchema, cmd);
  return encodePut(cmd.command.value, cmd.nowMs);
}

export function decodeCommand(data: Uint8Array): Command {
  return decodePut(data) ?? fromBinary(CommandSchema, data);
}

function hasUnknown(m: object): boolean {
  return (m as { $unknown?: unknown[] }).$unknown !== undefined && (m as { $unknown: unknown[] }).$unknown.length > 0;
}

function putBodySize(p: PutCommand, expires: number): number {
  let size = 0;
  if (p.key.length > 0) size += 1 + varintSize(p.key.length) + p.key.length;
  if (p.value.length > 0) size += 1 + varintSize(p.value.length) + p.value.length;
  if (expires !== 0) size += 1 + varintSize(expires);
  if (p.prevKv) size += 2;
  return size;
}

function encodePut(p: PutCommand, nowMsBig: bigint): Uint8Array {
  const expires = Number(p.expiresAtMs);
  const nowMs = Number(nowMsBig);
  if (!Number.isSafeInteger(expires) || expires < 0 || !Number.isSafeInteger(nowMs) || nowMs < 0) {
    return toBinary(CommandSchema, { $typeName: "rbkv.raft.v1.Command", command: { case: "put", value: p }, nowMs: nowMsBig });
  }
  const body = putBodySize(p, expires);
  const w = new ProtoWriter(new Uint8Array(1 + varintSize(body) + body + (nowMs !== 0 ? 1 + varintSize(nowMs) : 0)));
  w.begin(1, body);
  if (p.key.length > 0) w.bytes(1, p.key);
  if (p.value.length > 0) w.bytes(2, p.value);
  if (expires !== 0) w.uint(3, expires);
  if (p.prevKv) w.uint(4, 1);
  if (nowMs !== 0) w.uint(15, nowMs);
  return w.buf;
}

const COMMAND_TAGS = [TAG_PUT, TAG_NOW_MS];
const PUT_BODY_TAGS = [TAG_KEY, TAG_VALUE, TAG_EXPIRES, TAG_PREV_KV];

/** A Command holding a PutCommand, or null for anything this reader does not fully understand. */
function decodePut(data: Uint8Array): Command | null {
  const f = readFlatMessage(data, COMMAND_TAGS);
  if (f === null || f[0] === null) return null;
  const put = decodePutBody(f[0] as Uint8Array);
  if (put === null) return null;
  return { $typeName: "rbkv.raft.v1.Command", command: { case: "put", value: put }, nowMs: BigInt((f[1] as number | null) ?? 0) };
}

function decodePutBody(data: Uint8Array): PutCommand | null {
  const f = readFlatMessage(data, PUT_BODY_TAGS);
  if (f === null || (f[3] !== null && f[3] !== 0 && f[3] !== 1)) return null;
  return {
    $typeName: "rbkv.raft.v1.PutCommand",
    key: (f[0] as Uint8Array | null) ?? new Uint8Array(0),
    value: (f[1] as Uint8Array | null) ?? new Uint8Array(0),
    expiresAtMs: BigInt((f[2] as number | null) ?? 0),
    prevKv: f[3] === 1,
  };
}
