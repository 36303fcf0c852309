// How the command line fails: usage mistakes exit 2, everything else 1, each with a message that
// says what to do.
import { Code, ConnectError } from "@connectrpc/connect";
import { DurationError } from "../client/duration";
import { SnapshotChecksumError, WatchCompactedError } from "../client/errors";

export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;
/** `rbkv txn` ran its failure ops because a compare did not hold. */
export const EXIT_TXN_FAILED = 3;

/** The command line was used wrongly (exit 2). */
export class UsageError extends Error {
  override name = "UsageError";
}

/** A failure with a message already fit for the user (exit 1). */
export class CliError extends Error {
  override name = "CliError";
}

const CONNECT_CODE_NAMES: Partial<Record<Code, string>> = {
  [Code.Canceled]: "cancelled",
  [Code.Unknown]: "unknown error",
  [Code.InvalidArgument]: "invalid argument",
  [Code.DeadlineExceeded]: "deadline exceeded",
  [Code.NotFound]: "not found",
  [Code.AlreadyExists]: "already exists",
  [Code.PermissionDenied]: "permission denied",
  [Code.ResourceExhausted]: "resource exhausted",
  [Code.FailedPrecondition]: "failed precondition",
  [Code.Aborted]: "aborted",
  [Code.OutOfRange]: "out of range",
  [Code.Unimplemented]: "unimplemented",
  [Code.Internal]: "internal error",
  [Code.Unavailable]: "unavailable",
  [Code.Unauthenticated]: "unauthenticated",
};

/** The message and exit code for any error a command threw. */
export function describeError(err: unknown, endpoints: readonly string[]): { message: string; exitCode: number } {
  if (err instanceof UsageError) return { message: `${err.message} (see "rbkv help")`, exitCode: EXIT_USAGE };
  if (err instanceof DurationError) return { message: err.message, exitCode: EXIT_USAGE };
  if (err instanceof CliError || err instanceof SnapshotChecksumError) return { message: err.message, exitCode: EXIT_ERROR };
  if (err instanceof WatchCompactedError) {
    return { message: `${err.message} (retry with --rev ${err.compactRevision} or later)`, exitCode: EXIT_ERROR };
  }
  if (err instanceof ConnectError) return { message: connectMessage(err, endpoints), exitCode: EXIT_ERROR };
  const e = err instanceof Error ? err : new Error(String(err));
  return { message: e.message, exitCode: EXIT_ERROR };
}

function connectMessage(err: ConnectError, endpoints: readonly string[]): string {
  const text = err.rawMessage;
  if (err.code === Code.Unavailable && /ECONNREFUSED|Unable to connect|Connection refused|ENOTFOUND|EAI_AGAIN|every try/i.test(text + String(err.cause ?? ""))) {
    return `cannot reach the cluster at ${endpoints.join(",")}: ${text}\n` + "Is a node running there? Point the command at members with --endpoints host:port,... or RBKV_ENDPOINTS.";
  }
  return `${CONNECT_CODE_NAMES[err.code] ?? "error"}: ${text}`;
}
