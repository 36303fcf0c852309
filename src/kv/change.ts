import { type Event, EventType } from "../gen/rbkv/v1/kv_pb";
import { putEvent, removeEvent } from "./events";
import type { StoredKv } from "./record";

/**
 * One change a command made, in the compact form the apply path works with. The protobuf Event a
 * watcher receives is built from it only when some watcher wants it (`toEvent`).
 */
export type Change =
  | { type: EventType.PUT; key: Uint8Array; kv: StoredKv; prev: StoredKv | undefined }
  | { type: EventType.DELETE | EventType.EXPIRE; key: Uint8Array; revision: number; prev: StoredKv };

/** The revision the change happened at. */
export function changeRevision(c: Change): number {
  return c.type === EventType.PUT ? c.kv.modRevision : c.revision;
}

export function toEvent(c: Change): Event {
  return c.type === EventType.PUT ? putEvent(c.key, c.kv, c.prev) : removeEvent(c.type, c.key, c.revision, c.prev);
}
