// `rbkv serve [flags]` (and `rbkv` with only flags): start a node and run until SIGTERM/SIGINT.
import { FlagError, nodeFlagsHelp, parseNodeFlags } from "../node/flags";
import { startNode } from "../node/start";

export async function serve(argv: string[]): Promise<void> {
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
