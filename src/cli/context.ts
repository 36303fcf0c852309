// What every command gets: the parsed global flags, a client on the endpoints, and the streams.
import type { RbkvClient } from "../client";
import { parseDuration } from "../client/duration";
import { createNodeClient } from "../client/node";
import type { FlagSpec, ParsedArgs } from "./args";
import { stringFlag } from "./args";
import type { CliIo } from "./io";
import { parseFormat, type OutputFormat } from "./output";
import { UsageError } from "./errors";

export const DEFAULT_ENDPOINT = "localhost:9501";
export const DEFAULT_TIMEOUT = "5s";

export const GLOBAL_FLAGS: FlagSpec[] = [
  { name: "endpoints", kind: "string", value: "A,B", help: `client addresses of members, comma-separated (default $RBKV_ENDPOINTS or ${DEFAULT_ENDPOINT})` },
  { name: "write-out", short: "w", kind: "string", value: "FORMAT", help: "output: simple (for people, default), table or json (for scripts)" },
  { name: "timeout", kind: "string", value: "DURATION", help: `how long one command may keep retrying (default ${DEFAULT_TIMEOUT})` },
  { name: "help", short: "h", kind: "bool", help: "show help for the command" },
];

export interface CommandContext {
  io: CliIo;
  format: OutputFormat;
  endpoints: string[];
  timeoutMs: number;
  /** The client, made on first use (closed by the dispatcher). */
  client(): RbkvClient;
}

export function endpointsFrom(args: ParsedArgs, env: Record<string, string | undefined>): string[] {
  const raw = stringFlag(args, "endpoints") ?? (env.RBKV_ENDPOINTS || DEFAULT_ENDPOINT);
  return raw.split(",").map((e) => e.trim()).filter((e) => e.length > 0);
}

export function makeContext(args: ParsedArgs, io: CliIo, env: Record<string, string | undefined>): { ctx: CommandContext; close(): void } {
  const endpoints = endpointsFrom(args, env);
  const timeoutMs = parseDuration(stringFlag(args, "timeout") ?? DEFAULT_TIMEOUT);
  let client: RbkvClient | null = null;
  const ctx: CommandContext = {
    io,
    format: parseFormat(stringFlag(args, "write-out")),
    endpoints,
    timeoutMs,
    client: () => {
      if (endpoints.length === 0) throw new UsageError("--endpoints is empty; give host:port,...");
      return (client ??= createNodeClient(endpoints, { timeoutMs, attemptTimeoutMs: Math.min(timeoutMs, 5_000) }));
    },
  };
  return { ctx, close: () => client?.close() };
}
