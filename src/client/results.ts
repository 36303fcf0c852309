// Friendly results of the KV calls.
import type { DeleteResponse, PutResponse, RangeResponse } from "../gen/rbkv/v1/kv_pb";
import { fromKeyValueMessage, optionalKeyValue, responseInfo, type KeyValue, type ResponseInfo } from "./key_value";

export interface RangeResult extends ResponseInfo {
  kvs: KeyValue[];
  /** More keys lie in the range beyond the limit. */
  more: boolean;
  /** Keys in the range, ignoring the limit. */
  count: number;
}

export interface PutResult extends ResponseInfo {
  /** The previous key-value, when asked for and the key existed. */
  prevKv: KeyValue | null;
}

export interface DeleteResult extends ResponseInfo {
  deleted: number;
  prevKvs: KeyValue[];
}

export function rangeResult(res: RangeResponse): RangeResult {
  return { ...responseInfo(res.header), kvs: res.kvs.map(fromKeyValueMessage), more: res.more, count: Number(res.count) };
}

export function putResult(res: PutResponse): PutResult {
  return { ...responseInfo(res.header), prevKv: optionalKeyValue(res.prevKv) };
}

export function deleteResult(res: DeleteResponse): DeleteResult {
  return { ...responseInfo(res.header), deleted: Number(res.deleted), prevKvs: res.prevKvs.map(fromKeyValueMessage) };
}
