// The rbkv command line, in the manner of etcdctl: `rbkv <command> [args] [flags]`.
// runCli returns the exit code: 0 ok, 1 failure, 2 usage error, 3 txn took its failure branch.
import { parseArgs } from "./args";
import type { Command } from "./command";
import { COMMANDS } from "./commands";
import { GLOBAL_FLAGS, endpointsFrom, makeContext } from "./context";
import { describeError, EXIT_OK, EXIT_USAGE } from "./errors";
import { commandHelp, generalHelp } from "./help";
import { processIo, type CliIo } from "./io";

/** The command named by the leading words of argv ("member list" takes two), and the rest. */
function findCommand(argv: readonly string[]): { command: Command; rest: string[] } | null {
  for (const c of COMMANDS) {
    const words = c.name.split(" ");
    if (words.every((w, i) => argv[i] === w)) return { command: c, rest: argv.slice(words.length) };
  }
  return null;
}

function unknownCommand(argv: readonly string[]): string {
  const group = COMMANDS.filter((c) => c.name.startsWith(`${argv[0]} `)).map((c) => c.name);
  if (group.length > 0) return `"${argv.join(" ")}" is not a command; did you mean ${group.map((g) => `"${g}"`).join(", ")}?`;
  return `unknown command "${argv[0]}"`;
}

export async function runCli(argv: readonly string[], io: CliIo = processIo(), env: Record<string, string | undefined> = process.env): Promise<number> {
  if (argv.length === 0 || argv[0] === "help" || argv[0] === "--help" || argv[0] === "-h") {
    const target = argv[0] === "help" && argv.length > 1 ? findCommand(argv.slice(1)) : null;
    if (argv[0] === "help" && argv.length > 1 && !target) {
      io.err(`rbkv: ${unknownCommand(argv.slice(1))} (see "rbkv help")\n`);
      return EXIT_USAGE;
    }
    io.out(target ? commandHelp(target.command) : generalHelp(COMMANDS));
    return EXIT_OK;
  }
  const found = findCommand(argv);
  if (!found) {
    io.err(`rbkv: ${unknownCommand(argv)} (see "rbkv help")\n`);
    return EXIT_USAGE;
  }
  const { command, rest } = found;
  let endpoints: string[] = [];
  let close = () => {};
  try {
    const args = parseArgs(rest, [...command.flags, ...GLOBAL_FLAGS]);
    endpoints = endpointsFrom(args, env);
    if (args.flags.get("help") === true) {
      io.out(commandHelp(command));
      return EXIT_OK;
    }
    const made = makeContext(args, io, env);
    close = made.close;
    return await command.run(made.ctx, args);
  } catch (err) {
    const { message, exitCode } = describeError(err, endpoints);
    io.err(`rbkv ${command.name}: ${message}\n`);
    return exitCode;
  } finally {
    close();
  }
}
