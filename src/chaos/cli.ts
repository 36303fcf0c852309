// Long chaos runs from the command line:
//   bun src/chaos/cli.ts --duration 600 --nodes 3 [--seed N] [--clients 12] [--keys 5]
//     [--snapshot-entries N (compact the log often: lagging nodes catch up from snapshots)] [--keep-data]
// Prints faults as they happen, then ops, faults, watch checks and the verdict; exit code 1 on failure.
import { randomSeed } from "./prng";
import { formatReport } from "./report";
import { DEFAULT_CHAOS_OPTIONS, runChaos, type ChaosOptions } from "./run";

const USAGE = "usage: bun src/chaos/cli.ts [--duration SECONDS] [--nodes N] [--seed N] [--clients N] [--keys N] [--watchers N] [--check-timeout SECONDS] [--snapshot-entries N] [--keep-data]";

function parseArgs(argv: string[]): ChaosOptions {
  const opts: ChaosOptions = { ...DEFAULT_CHAOS_OPTIONS, seed: randomSeed(), say: (line) => console.log(line) };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split("=", 2);
    const value = (): number => {
      const raw = inline ?? argv[++i];
      const n = Number(raw);
      if (raw === undefined || !Number.isFinite(n) || n < 0) throw new Error(`${flag} needs a number, got ${raw}\n${USAGE}`);
      return n;
    };
    switch (flag) {
      case "--duration":
        opts.durationMs = value() * 1000;
        break;
      case "--nodes":
        opts.nodes = value();
        break;
      case "--seed":
        opts.seed = value();
        break;
      case "--clients":
        opts.clients = value();
        break;
      case "--keys":
        opts.keys = value();
        break;
      case "--watchers":
        opts.watchers = value();
        break;
      case "--check-timeout":
        opts.checkTimeoutMs = value() * 1000;
        break;
      case "--snapshot-entries": {
        const n = value();
        opts.nodeFlags = [...opts.nodeFlags, `--snapshot-entries=${n}`, `--retain-entries=${Math.floor(n / 4)}`];
        break;
      }
      case "--keep-data":
        opts.keepData = true;
        break;
      case "--help":
      case "-h":
        console.log(USAGE);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown argument ${argv[i]}\n${USAGE}`);
    }
  }
  return opts;
}

async function main(): Promise<void> {
  let opts: ChaosOptions;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(2);
  }
  // A long run's check gets more time: its history is about proportional to the duration.
  if (!process.argv.some((a) => a.startsWith("--check-timeout"))) opts.checkTimeoutMs = Math.max(opts.checkTimeoutMs, opts.durationMs);
  const result = await runChaos(opts);
  console.log(formatReport(result));
  process.exit(result.passed ? 0 : 1);
}

await main();
