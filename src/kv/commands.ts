import { create } from "@bufbuild/protobuf";
import { durationMs } from "@bufbuild/protobuf/wkt";
import {
  type Command,
  CommandSchema,
  type PutCommand,
  PutCommandSchema,
  type TxnOp,
  TxnOpSchema,
} from "../gen/rbkv/raft/v1/raft_pb";
import type { DeleteRequest, PutRequest, RequestOp, TxnRequest } from "../gen/rbkv/v1/kv_pb";
import type { ExpiredKey } from "./expiry";

// Builders the leader uses to turn client requests into state machine commands. The leader's
// clock goes into the command here (absolute expiry, now_ms) so that applying it reads no clock.

export function putCommand(req: PutRequest, nowMs: number): Command {
  return create(CommandSchema, { command: { case: "put", value: toPutCommand(req, nowMs) }, nowMs: BigInt(nowMs) });
}

export function deleteCommand(req: DeleteRequest, nowMs: number): Command {
  return create(CommandSchema, { command: { case: "delete", value: req }, nowMs: BigInt(nowMs) });
}

export function txnCommand(req: TxnRequest, nowMs: number): Command {
  const ops = (list: RequestOp[]) => list.map((op) => toTxnOp(op, nowMs));
  return create(CommandSchema, {
    command: { case: "txn", value: { compare: req.compare, success: ops(req.success), failure: ops(req.failure) } },
    nowMs: BigInt(nowMs),
  });
}

export function expireCommand(keys: ExpiredKey[], nowMs: number): Command {
  return create(CommandSchema, {
    command: {
      case: "expire",
      value: {
        keys: keys.map((k) => ({ key: k.key, modRevision: BigInt(k.modRevision), expiresAtMs: BigInt(k.expiresAtMs) })),
      },
    },
    nowMs: BigInt(nowMs),
  });
}

export { decodeCommand, encodeCommand } from "./command_codec";

function toPutCommand(req: PutRequest, nowMs: number): PutCommand {
  const ttlMs = req.ttl ? Math.ceil(durationMs(req.ttl)) : 0;
  return create(PutCommandSchema, {
    key: req.key,
    value: req.value,
    expiresAtMs: BigInt(ttlMs > 0 ? nowMs + ttlMs : 0),
    prevKv: req.prevKv,
  });
}

function toTxnOp(op: RequestOp, nowMs: number): TxnOp {
  switch (op.request.case) {
    case "put":
      return create(TxnOpSchema, { op: { case: "put", value: toPutCommand(op.request.value, nowMs) } });
    case "get":
      return create(TxnOpSchema, { op: { case: "get", value: op.request.value } });
    case "delete":
      return create(TxnOpSchema, { op: { case: "delete", value: op.request.value } });
    case "range":
      return create(TxnOpSchema, { op: { case: "range", value: op.request.value } });
    default:
      return create(TxnOpSchema, {});
  }
}
