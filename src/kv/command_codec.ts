// Commands in the Raft log, with a hand-written codec for the common one (a Command holding a
// PutCommand): every member decodes every entry, and protobuf-es's generic reader costs more per
// put than the rest of the apply. The bytes are exactly what toBinary(CommandSchema, ...) writes,
// and the decoder only takes what it fully understands (each known field at most once, no unknown
// fields); anything else goes to fromBinary, so both paths give the same Command (tested).
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { type Command, CommandSchema, type PutCommand } from "../gen/rbkv/raft/v1/raft_pb";
import { readVarint, varintSize } from "./varint";

const TAG_PUT = 0x0a; // field 1, length-delimited
const TAG_NOW_MS = 0x78; // field 15, varint
const TAG_KEY = 0x0a;
const TAG_VALUE = 0x12;
const TAG_EXPIRES = 0x18;
const TAG_PREV_KV = 0x20;
/** Seven varint bytes carry 49 bits: every millisecond time until the year 19,000. */
const MAX_FAST_VARINT_BYTES = 7;

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
  const out = new Uint8Array(1 + varintSize(body) + body + (nowMs !== 0 ? 1 + varintSize(nowMs) : 0));
  let pos = 0;
  const varint = (n: number) => {
    while (n >= 0x80) {
      out[pos++] = (n % 128) | 0x80;
      n = Math.floor(n / 128);
    }
    out[pos++] = n;
  };
  const bytes = (tag: number, b: Uint8Array) => {
    if (b.length === 0) return;
    out[pos++] = tag;
    varint(b.length);
    out.set(b, pos);
    pos += b.length;
  };
  out[pos++] = TAG_PUT;
  varint(body);
  bytes(TAG_KEY, p.key);
  bytes(TAG_VALUE, p.value);
  if (expires !== 0) {
    out[pos++] = TAG_EXPIRES;
    varint(expires);
  }
  if (p.prevKv) {
    out[pos++] = TAG_PREV_KV;
    out[pos++] = 1;
  }
  if (nowMs !== 0) {
    out[pos++] = TAG_NOW_MS;
    varint(nowMs);
  }
  return out;
}

/** A Command holding a PutCommand, or null for anything this reader does not fully understand. */
function decodePut(data: Uint8Array): Command | null {
  const at = { pos: 0 };
  const varint = () => readVarint(data, at, data.length, MAX_FAST_VARINT_BYTES);
  let put: PutCommand | null = null;
  let nowMs = -1;
  while (at.pos < data.length) {
    const tag = data[at.pos++];
    if (tag === TAG_PUT && put === null) {
      const len = varint();
      if (len < 0 || at.pos + len > data.length) return null;
      put = decodePutBody(data, at.pos, at.pos + len);
      if (put === null) return null;
      at.pos += len;
    } else if (tag === TAG_NOW_MS && nowMs < 0) {
      nowMs = varint();
      if (nowMs < 0) return null;
    } else {
      return null;
    }
  }
  if (put === null) return null;
  return { $typeName: "rbkv.raft.v1.Command", command: { case: "put", value: put }, nowMs: BigInt(Math.max(nowMs, 0)) };
}

function decodePutBody(data: Uint8Array, start: number, end: number): PutCommand | null {
  const at = { pos: start };
  const varint = () => readVarint(data, at, end, MAX_FAST_VARINT_BYTES);
  let key: Uint8Array | null = null;
  let value: Uint8Array | null = null;
  let expires = -1;
  let prevKv = -1;
  while (at.pos < end) {
    const tag = data[at.pos++];
    if ((tag === TAG_KEY && key === null) || (tag === TAG_VALUE && value === null)) {
      const len = varint();
      if (len < 0 || at.pos + len > end) return null;
      const b = data.subarray(at.pos, at.pos + len);
      at.pos += len;
      if (tag === TAG_KEY) key = b;
      else value = b;
    } else if (tag === TAG_EXPIRES && expires < 0) {
      expires = varint();
      if (expires < 0) return null;
    } else if (tag === TAG_PREV_KV && prevKv < 0) {
      prevKv = varint();
      if (prevKv !== 0 && prevKv !== 1) return null;
    } else {
      return null;
    }
  }
  return {
    $typeName: "rbkv.raft.v1.PutCommand",
    key: key ?? new Uint8Array(0),
    value: value ?? new Uint8Array(0),
    expiresAtMs: BigInt(Math.max(expires, 0)),
    prevKv: prevKv === 1,
  };
}
