// Which failures a client may retry, and the typed errors it raises itself.
import { Code, ConnectError } from "@connectrpc/connect";

/** A watch asked for history older than the server keeps (OUT_OF_RANGE). Re-read the keys, then watch from `compactRevision`. */
export class WatchCompactedError extends Error {
  override name = "WatchCompactedError";
  readonly code = Code.OutOfRange;
  constructor(
    readonly requestedRevision: bigint,
    /** The first revision the server still has; 0n when the server did not say. */
    readonly compactRevision: bigint,
    message: string,
  ) {
    super(message);
  }
}

/** A snapshot stream ended without a checksum, or its bytes do not match the checksum sent. */
export class SnapshotChecksumError extends Error {
  override name = "SnapshotChecksumError";
}

/** Node error codes that mean the connection was never made, so the request never left this client. */
const NEVER_CONNECTED_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "ConnectionRefused"]);

/** Server messages (UNAVAILABLE / RESOURCE_EXHAUSTED) that say a write was refused or dropped before it was applied. */
const NOT_APPLIED_MESSAGES = [
  /no leader \(an election is in progress/,
  /this node is not the leader/,
  /leadership is being transferred/,
  /it was not applied/,
  /has no known address yet/,
  /too many writes waiting to commit/,
  /ECONNREFUSED|Connection refused|ConnectionRefused/i,
  /REFUSED_STREAM/,
];

function errorChain(err: unknown): unknown[] {
  const chain: unknown[] = [];
  let e: unknown = err;
  while (e !== undefined && e !== null && !chain.includes(e) && chain.length < 8) {
    chain.push(e);
    e = e instanceof Error ? e.cause : undefined;
  }
  return chain;
}

function neverConnected(err: unknown): boolean {
  return errorChain(err).some((e) => {
    if (!(e instanceof Error)) return false;
    const code = (e as { code?: unknown }).code;
    return (typeof code === "string" && NEVER_CONNECTED_CODES.has(code)) || /ECONNREFUSED|Unable to connect|Connection refused/i.test(e.message);
  });
}

/** May an idempotent call (a read, a status, a watch) be tried again, here or on another member? */
export function isRetryableRead(err: unknown): boolean {
  const ce = ConnectError.from(err);
  return ce.code === Code.Unavailable || ce.code === Code.DeadlineExceeded || ce.code === Code.ResourceExhausted || ce.code === Code.Aborted || neverConnected(err);
}

/**
 * May a write be sent again? Only when the failure proves it was not applied: the connection was
 * never made, or the server said it refused or dropped the write before committing it. A timeout
 * (DEADLINE_EXCEEDED, "outcome unknown") or a connection lost mid-call is not proof, and is surfaced.
 */
export function isProvablyNotApplied(err: unknown): boolean {
  if (neverConnected(err)) return true;
  const ce = ConnectError.from(err);
  if (ce.code !== Code.Unavailable && ce.code !== Code.ResourceExhausted) return false;
  return NOT_APPLIED_MESSAGES.some((re) => re.test(ce.rawMessage));
}

/** Should the client forget which member leads? (The member is down, or says it does not lead.) */
export function suggestsLeaderChange(err: unknown): boolean {
  const ce = ConnectError.from(err);
  return ce.code === Code.Unavailable || ce.code === Code.DeadlineExceeded || neverConnected(err);
}

/** Did the caller's own AbortSignal end the call? */
export function isCancelled(err: unknown): boolean {
  return ConnectError.from(err).code === Code.Canceled;
}
