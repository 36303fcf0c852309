// `rbkv help` and `rbkv help <command>`.
import type { FlagSpec } from "./args";
import type { Command } from "./command";
import { GLOBAL_FLAGS } from "./context";

function flagLines(flags: readonly FlagSpec[]): string[] {
  return flags.map((f) => {
    const names = `${f.short ? `-${f.short}, ` : ""}--${f.name}${f.value ? ` ${f.value}` : ""}`;
    return `  ${names.padEnd(28)} ${f.help}`;
  });
}

export function generalHelp(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => `${c.name} ${c.args}`.length));
  return [
    "rbkv: a Raft-replicated key-value store. Usage: rbkv <command> [flags]",
    "",
    "Commands:",
    ...commands.map((c) => `  ${`${c.name} ${c.args}`.trim().padEnd(width)}  ${c.summary}`),
    `  ${"serve [node flags]".padEnd(width)}  start a node (also: rbkv with only flags); see rbkv serve --help`,
    `  ${"help [command]".padEnd(width)}  this text, or one command's flags`,
    "",
    "Global flags:",
    ...flagLines(GLOBAL_FLAGS),
    "",
    "Exit codes: 0 ok (a get of a missing key prints nothing and exits 0), 1 the command failed",
    "(server error, unreachable cluster, unhealthy endpoint), 2 wrong usage, 3 txn ran its failure ops.",
    "",
  ].join("\n");
}

export function commandHelp(c: Command): string {
  return [
    `Usage: rbkv ${`${c.name} ${c.args}`.trim()} [flags]`,
    "",
    c.summary,
    ...(c.details ? ["", c.details] : []),
    ...(c.flags.length > 0 ? ["", "Flags:", ...flagLines(c.flags)] : []),
    "",
    "Global flags:",
    ...flagLines(GLOBAL_FLAGS),
    "",
  ].join("\n");
}
