import { create } from "@bufbuild/protobuf";
import { type Event, EventSchema, EventType, type KeyValue, KeyValueSchema } from "../gen/rbkv/v1/kv_pb";
import { type StoredKv, toKeyValue } from "./record";

export function putEvent(key: Uint8Array, kv: StoredKv, prev: StoredKv | undefined): Event {
  return create(EventSchema, {
    type: EventType.PUT,
    kv: toKeyValue(key, kv),
    prevKv: prev ? toKeyValue(key, prev) : undefined,
  });
}

/** A delete or expire: like etcd, `kv` carries only the key and the deleting revision. */
export function removeEvent(
  type: EventType.DELETE | EventType.EXPIRE,
  key: Uint8Array,
  revision: number,
  prev: StoredKv,
): Event {
  const kv: KeyValue = create(KeyValueSchema, { key, modRevision: BigInt(revision) });
  return create(EventSchema, { type, kv, prevKv: toKeyValue(key, prev) });
}

/** The revision an event happened at. */
export function eventRevision(event: Event): number {
  return Number(event.kv?.modRevision ?? 0n);
}
