import { create } from "@bufbuild/protobuf";
import type { Command, ExpireCommand, PutCommand, TxnCommand, TxnOp } from "../gen/rbkv/raft/v1/raft_pb";
import {
  type DeleteRequest,
  type DeleteResponse,
  DeleteResponseSchema,
  EventType,
  type KeyValue,
  type PutResponse,
  type ResponseOp,
  ResponseOpSchema,
  type TxnResponse,
  TxnResponseSchema,
} from "../gen/rbkv/v1/kv_pb";
import type { ApplyBatch } from "./apply_batch";
import { compareHolds } from "./compare";
import { isSingleKey } from "./range";
import { readGet, readRange } from "./read";
import { isExpired, type StoredKv, toKeyValue } from "./record";

/** What applying one Command produced, for the client that proposed it. */
export type CommandResult =
  | { kind: "put"; response: PutResponse }
  | { kind: "delete"; response: DeleteResponse }
  | { kind: "txn"; response: TxnResponse }
  | { kind: "expire"; deleted: number; revision: number }
  | { kind: "empty"; revision: number };

/**
 * Applies one command to the batch. Puts and Expires (all an applied batch usually holds) finish
 * synchronously, without a promise per command; only Delete and Txn, which may scan, are async.
 */
export function applyCommand(b: ApplyBatch, cmd: Command): CommandResult | Promise<CommandResult> {
  const nowMs = Number(cmd.nowMs);
  b.beginCommand();
  switch (cmd.command.case) {
    case "put":
      return { kind: "put", response: applyPut(b, cmd.command.value, nowMs) };
    case "delete":
      return applyDelete(b, cmd.command.value, nowMs).then((response) => ({ kind: "delete", response }));
    case "txn":
      return applyTxn(b, cmd.command.value, nowMs).then((response) => ({ kind: "txn", response }));
    case "expire":
      return { kind: "expire", ...applyExpire(b, cmd.command.value) };
    default:
      return { kind: "empty", revision: b.revision };
  }
}

function applyPut(b: ApplyBatch, put: PutCommand, nowMs: number): PutResponse {
  const prev = b.get(put.key);
  const live = prev && !isExpired(prev, nowMs) ? prev : undefined;
  const revision = b.writeRevision();
  // Writing over a key that has expired but whose Expire command is still to come: its old life
  // ends here, at this revision, and a new one begins.
  if (prev && !live) b.emit({ type: EventType.EXPIRE, key: put.key, revision, prev });
  const next: StoredKv = {
    value: put.value,
    createRevision: live ? live.createRevision : revision,
    modRevision: revision,
    version: live ? live.version + 1 : 1,
    expiresAtMs: Number(put.expiresAtMs),
  };
  b.setKv(put.key, next, prev);
  b.emit({ type: EventType.PUT, key: put.key, kv: next, prev: live });
  // Literals rather than create(): this runs for every put on every member, and the objects carry
  // every field of their messages, so they are exactly what create() would return.
  return {
    $typeName: "rbkv.v1.PutResponse",
    header: { $typeName: "rbkv.v1.ResponseHeader", clusterId: 0n, memberId: "", revision: BigInt(revision), raftTerm: 0n },
    prevKv: put.prevKv && live ? toKeyValue(put.key, live) : undefined,
  };
}

async function applyDelete(b: ApplyBatch, req: DeleteRequest, nowMs: number): Promise<DeleteResponse> {
  const targets: [Uint8Array, StoredKv][] = [];
  if (isSingleKey(req.rangeEnd)) {
    const kv = b.get(req.key);
    if (kv) targets.push([req.key, kv]);
  } else {
    for await (const row of b.scan(req.key, req.rangeEnd)) targets.push(row);
  }
  const prevKvs: KeyValue[] = [];
  let deleted = 0;
  for (const [key, prev] of targets) {
    // An expired key is already absent to clients; its Expire command will remove it.
    if (isExpired(prev, nowMs)) continue;
    const revision = b.writeRevision();
    b.deleteKv(key, prev);
    b.emit({ type: EventType.DELETE, key, revision, prev });
    if (req.prevKv) prevKvs.push(toKeyValue(key, prev));
    deleted++;
  }
  return create(DeleteResponseSchema, {
    header: { revision: BigInt(b.revision) },
    deleted: BigInt(deleted),
    prevKvs,
  });
}

async function applyTxn(b: ApplyBatch, txn: TxnCommand, nowMs: number): Promise<TxnResponse> {
  // Every compare sees the state before the Txn: no op has run yet.
  const succeeded = txn.compare.every((c) => {
    const kv = b.get(c.key);
    return compareHolds(c, kv && !isExpired(kv, nowMs) ? kv : undefined);
  });
  const responses: ResponseOp[] = [];
  for (const op of succeeded ? txn.success : txn.failure) {
    responses.push(await applyTxnOp(b, op, nowMs));
  }
  return create(TxnResponseSchema, { header: { revision: BigInt(b.revision) }, succeeded, responses });
}

async function applyTxnOp(b: ApplyBatch, op: TxnOp, nowMs: number): Promise<ResponseOp> {
  switch (op.op.case) {
    case "get":
      return create(ResponseOpSchema, { response: { case: "get", value: readGet(b, op.op.value.key, nowMs, b.revision) } });
    case "range": {
      const r = op.op.value;
      const query = { key: r.key, rangeEnd: r.rangeEnd, limit: Number(r.limit), keysOnly: r.keysOnly, countOnly: r.countOnly };
      return create(ResponseOpSchema, { response: { case: "range", value: await readRange(b, query, nowMs, b.revision) } });
    }
    case "put":
      return create(ResponseOpSchema, { response: { case: "put", value: applyPut(b, op.op.value, nowMs) } });
    case "delete":
      return create(ResponseOpSchema, { response: { case: "delete", value: await applyDelete(b, op.op.value, nowMs) } });
    default:
      return create(ResponseOpSchema, {});
  }
}

function applyExpire(b: ApplyBatch, cmd: ExpireCommand): { deleted: number; revision: number } {
  let deleted = 0;
  for (const k of cmd.keys) {
    const prev = b.get(k.key);
    // Written (or deleted) since the leader saw it expire: the newer write wins.
    if (!prev || prev.expiresAtMs === 0 || prev.modRevision !== Number(k.modRevision)) continue;
    const revision = b.writeRevision();
    b.deleteKv(k.key, prev);
    b.emit({ type: EventType.EXPIRE, key: k.key, revision, prev });
    deleted++;
  }
  return { deleted, revision: b.revision };
}
