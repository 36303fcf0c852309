// The shape of one subcommand.
import type { FlagSpec, ParsedArgs } from "./args";
import type { CommandContext } from "./context";

export interface Command {
  /** The words that select it, e.g. "get" or "member list". */
  name: string;
  /** Arguments after the name, e.g. "<key> [<end>]". */
  args: string;
  summary: string;
  flags: FlagSpec[];
  /** More text for `rbkv help <command>`. */
  details?: string;
  /** Returns the exit code. */
  run(ctx: CommandContext, args: ParsedArgs): Promise<number>;
}
