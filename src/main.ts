#!/usr/bin/env bun
// rbkv entry point: `bun run src/main.ts [serve] [flags]` starts a node.
import { FlagError, nodeFlagsHelp, parseNodeFlags } from "./node/flags";
import { startNode } from "./node/start";

async function serve(argv: string[]): Promise<void> {
  let config;
  try {
    const parsed = parseNodeFlags(argv);
    if (parsed === "help") {
      console.log(nodeFlagsHelp());
      return;
    }
    config = parsed;
  } catch (err) {
    if (err instanceof FlagError) {
      console.error(`rbkv: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  const name = config.id;
  const log = (line: string) => console.log(`${new Date().toISOString()} [${name}] ${line}`);
  const running = await startNode(config, log);
  log(`serving clients on ${config.grpcAddr} (gRPC, gRPC-Web, Connect), raft on ${running.raftAddr}`);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: finishing in-flight requests and stopping`);
    running.stop().then(
      () => {
        log("stopped");
        process.exit(0);
      },
      (err) => {
        log(`error while stopping: ${(err as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

const argv = process.argv.slice(2);
const command = argv[0] && !argv[0].startsWith("-") ? argv[0] : "serve";
if (command === "serve") {
  await serve(argv[0] === "serve" ? argv.slice(1) : argv);
} else {
  console.error(`rbkv: unknown command "${command}"; try "serve" or --help`);
  process.exit(2);
}
