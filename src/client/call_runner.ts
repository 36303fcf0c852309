// Runs one logical call against the cluster: picks a member (the leader or any), retries with
// backoff under one overall deadline when the failure allows it, fails over between members.
import { Code, ConnectError } from "@connectrpc/connect";
import { backoffDelay, sleep, type BackoffOptions } from "./backoff";
import { isProvablyNotApplied, isRetryableRead, suggestsLeaderChange } from "./errors";
import type { Member, MemberPool } from "./member_pool";

/** A read or status may be retried on any UNAVAILABLE; a write only when it provably was not applied. */
export type CallKind = "idempotent" | "write";
/** Where a call goes: the leader (any member if none is known) or the next member round-robin. */
export type CallTarget = "leader" | "any";

/** Seen by `onCall` after every attempt: which member served which method, and how it ended. */
export interface CallEvent {
  method: string;
  endpoint: string;
  /** 0 for the first try. */
  attempt: number;
  error?: ConnectError;
}

export interface CallRunnerOptions {
  /** Overall deadline of one call, retries included (default 15 s). */
  timeoutMs: number;
  /** Longest one idempotent attempt may take before the next member is tried (default 5 s). */
  attemptTimeoutMs: number;
  backoff: BackoffOptions;
  onCall?: (event: CallEvent) => void;
}

export interface PerCallOptions {
  signal?: AbortSignal;
  /** Overrides the client's overall deadline for this call. */
  timeoutMs?: number;
}

export interface AttemptOptions {
  signal?: AbortSignal;
  timeoutMs: number;
}

export class CallRunner {
  constructor(readonly pool: MemberPool, readonly options: CallRunnerOptions) {}

  async run<T>(
    method: string,
    kind: CallKind,
    target: CallTarget,
    call: (member: Member, options: AttemptOptions) => Promise<T>,
    per: PerCallOptions = {},
  ): Promise<T> {
    const deadline = Date.now() + (per.timeoutMs ?? this.options.timeoutMs);
    let lastError: ConnectError | null = null;
    for (let attempt = 0; ; attempt++) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw gaveUp(method, lastError);
      if (per.signal?.aborted) throw cancelled(method);
      const member = target === "leader" ? await this.pool.leaderOrAny(per.signal) : this.pool.nextForRead();
      const timeoutMs = kind === "idempotent" ? Math.min(remaining, this.options.attemptTimeoutMs) : remaining;
      try {
        const result = await call(member, { signal: per.signal, timeoutMs: Math.max(1, timeoutMs) });
        this.pool.noteSuccess(member);
        this.options.onCall?.({ method, endpoint: member.endpoint, attempt });
        return result;
      } catch (err) {
        const error = ConnectError.from(err);
        if (error.cause === undefined && err !== error) error.cause = err;
        this.options.onCall?.({ method, endpoint: member.endpoint, attempt, error });
        if (per.signal?.aborted) throw cancelled(method);
        // CANCELED that the caller did not ask for: the transport reset the stream (its connection
        // died, e.g. the member was killed). A read may go again; a write's outcome is unknown.
        const connectionLost = error.code === Code.Canceled;
        if (connectionLost || suggestsLeaderChange(err)) this.pool.noteFailure(member);
        const retryable = kind === "idempotent" ? connectionLost || isRetryableRead(err) : isProvablyNotApplied(err);
        if (!retryable) throw kind === "write" ? explainUnknownOutcome(method, member.endpoint, error) : error;
        lastError = error;
        const wait = Math.min(backoffDelay(attempt, this.options.backoff), deadline - Date.now());
        if (wait > 0) await sleep(wait, per.signal).catch(() => undefined);
      }
    }
  }
}

function cancelled(method: string): ConnectError {
  return new ConnectError(`${method} cancelled by the caller`, Code.Canceled);
}

function gaveUp(method: string, last: ConnectError | null): ConnectError {
  if (!last) return new ConnectError(`${method}: no time left to try`, Code.DeadlineExceeded);
  const err = new ConnectError(`${method} failed on every try before the deadline; last error: ${last.rawMessage}`, last.code, undefined, undefined, last);
  return err;
}

/** Failures after which a write may or may not have been applied (as opposed to being refused). */
const OUTCOME_UNKNOWN_CODES = new Set<Code>([Code.Aborted, Code.Unknown, Code.Internal, Code.Unavailable, Code.DeadlineExceeded, Code.Canceled]);

/** Says plainly that a failed write's outcome is unknown (e.g. "read ECONNRESET" on its own does not). */
function explainUnknownOutcome(method: string, endpoint: string, err: ConnectError): ConnectError {
  if (!OUTCOME_UNKNOWN_CODES.has(err.code) || /outcome is unknown/.test(err.rawMessage)) return err;
  const message = `${method} via ${endpoint} failed (${err.rawMessage}); its outcome is unknown: it may have been applied, so read before retrying`;
  const explained = new ConnectError(message, err.code, err.metadata, undefined, err);
  explained.details = err.details;
  return explained;
}
