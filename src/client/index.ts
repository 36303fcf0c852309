// rbkv/client: a smart client for rbkv that runs in Bun, Node and the browser. Bring a Connect
// transport factory (createConnectTransport / createGrpcTransport from @connectrpc/connect-node,
// createGrpcWebTransport from @connectrpc/connect-web); in Node or Bun, `rbkv/client/node`'s
// createNodeClient(endpoints) does it for you.
export { RbkvClient, createRbkvClient, type RbkvClientOptions, type CallOptions, type MemberAddOptions, type SnapshotOptions } from "./client";
export type { TransportFactory } from "./member_pool";
export type { CallEvent } from "./call_runner";
export type { BackoffOptions } from "./backoff";
export { toBytes, toText, toHex, prefixEnd, type BytesLike } from "./bytes";
export { parseDuration, DurationError } from "./duration";
export { WatchCompactedError, SnapshotChecksumError, isProvablyNotApplied, isRetryableRead } from "./errors";
export type { KeyValue, ResponseInfo } from "./key_value";
export type { ReadOptions, RangeOptions, PutOptions, DeleteOptions } from "./requests";
export type { RangeResult, PutResult, DeleteResult } from "./results";
export { compare, op, TxnBuilder, type CompareOperator, type TxnResult, type TxnOpResult } from "./txn";
export type { WatchEvent, WatchEventType, WatchOptions } from "./watch";
export type { SnapshotChunk, Hasher } from "./snapshot";
export type { MemberInfo, MemberStatus, EndpointStatus } from "./cluster_types";
export { Code, ConnectError } from "@connectrpc/connect";
