// The friendly shape of a stored key: bytes and text side by side, revisions as bigint.
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { KeyValue as KeyValueMessage, ResponseHeader } from "../gen/rbkv/v1/kv_pb";
import { toText } from "./bytes";

export interface KeyValue {
  key: Uint8Array;
  /** The key decoded as UTF-8. */
  keyText: string;
  value: Uint8Array;
  /** The value decoded as UTF-8 (binary values decode lossily; use `value`). */
  valueText: string;
  /** Revision of the write that created the key. */
  createRevision: bigint;
  /** Revision of the last write to the key. */
  modRevision: bigint;
  /** Writes since creation; 1 after the create. */
  version: bigint;
  /** When the key expires; null when it never does. */
  expiresAt: Date | null;
}

/** Who answered and at which store revision. */
export interface ResponseInfo {
  /** The member that served the request. */
  memberId: string;
  /** Store revision the response reflects. */
  revision: bigint;
  raftTerm: bigint;
}

export function fromKeyValueMessage(kv: KeyValueMessage): KeyValue {
  return {
    key: kv.key,
    keyText: toText(kv.key),
    value: kv.value,
    valueText: toText(kv.value),
    createRevision: kv.createRevision,
    modRevision: kv.modRevision,
    version: kv.version,
    expiresAt: kv.expiresAt ? timestampDate(kv.expiresAt) : null,
  };
}

export function optionalKeyValue(kv: KeyValueMessage | undefined): KeyValue | null {
  return kv ? fromKeyValueMessage(kv) : null;
}

export function responseInfo(header: ResponseHeader | undefined): ResponseInfo {
  return { memberId: header?.memberId ?? "", revision: header?.revision ?? 0n, raftTerm: header?.raftTerm ?? 0n };
}
