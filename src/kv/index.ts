// The KV state machine's public surface for the node runtime.
export { KvStore, type KvStoreOptions, type ApplyResult, type ApplyOutcome, type AppliedBatch, type AppliedListener } from "./store";
export type { CommandResult } from "./apply_command";
export type { RangeQuery } from "./read";
export type { HistoryPage } from "./history";
export type { ExpiredKey } from "./expiry";
export type { Membership } from "./membership";
export { readSnapshotMeta, SnapshotFormatError, type KvSnapshotMeta } from "./snapshot_format";
export { putCommand, deleteCommand, txnCommand, expireCommand, encodeCommand, decodeCommand } from "./commands";
export { prefixEnd } from "./range";
