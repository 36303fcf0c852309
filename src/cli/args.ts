// Command-line arguments: positionals and flags (--name value, --name=value, -w json), checked
// against the flags a command declares. Mistakes are UsageErrors (exit code 2).
import { UsageError } from "./errors";

export type FlagKind = "bool" | "string";

export interface FlagSpec {
  name: string;
  /** One-letter alias, e.g. "w" for -w. */
  short?: string;
  kind: FlagKind;
  help: string;
  /** Shown as the value's placeholder in usage, e.g. "N". */
  value?: string;
}

export interface ParsedArgs {
  positionals: string[];
  flags: Map<string, string | true>;
}

export function parseArgs(argv: readonly string[], specs: readonly FlagSpec[]): ParsedArgs {
  const positionals: string[] = [];
  const flags = new Map<string, string | true>();
  const byName = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short as string, s]));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    const long = /^--([^=]+)(?:=(.*))?$/s.exec(arg);
    const short = /^-([a-zA-Z])(?:=?(.+))?$/s.exec(arg);
    if (!long && !short) {
      positionals.push(arg);
      continue;
    }
    const spec = long ? byName.get(long[1]) : byShort.get(short![1]);
    if (!spec) throw new UsageError(`unknown flag ${long ? `--${long[1]}` : `-${short![1]}`}`);
    const inline = long ? long[2] : short![2];
    if (spec.kind === "bool") {
      if (inline !== undefined && !["true", "false"].includes(inline)) throw new UsageError(`--${spec.name} takes no value (or =true / =false)`);
      if (inline !== "false") flags.set(spec.name, true);
      continue;
    }
    let value = inline;
    if (value === undefined) {
      value = argv[i + 1];
      if (value === undefined) throw new UsageError(`--${spec.name} needs a value`);
      i++;
    }
    flags.set(spec.name, value);
  }
  return { positionals, flags };
}

export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags.get(name);
  return typeof v === "string" ? v : undefined;
}

export function boolFlag(args: ParsedArgs, name: string): boolean {
  return args.flags.get(name) === true;
}

export function intFlag(args: ParsedArgs, name: string, min = 0): number | undefined {
  const v = stringFlag(args, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be a whole number >= ${min}, got "${v}"`);
  return n;
}

/** Exactly `names.length` positionals (with `optional` more allowed at the end). */
export function expectPositionals(args: ParsedArgs, names: readonly string[], optional: readonly string[] = []): string[] {
  const n = args.positionals.length;
  if (n < names.length) throw new UsageError(`missing ${names.slice(n).map((x) => `<${x}>`).join(" ")}`);
  if (n > names.length + optional.length) throw new UsageError(`unexpected argument "${args.positionals[names.length + optional.length]}"`);
  return args.positionals;
}
