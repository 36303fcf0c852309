#!/usr/bin/env bun
// rbkv entry point. `bun run src/main.ts [serve] [flags]` starts a node; any other first word is
// a command-line client command (`rbkv put k v`, `rbkv help`).
import { runCli } from "./cli";
import { serve } from "./cli/serve";

const argv = process.argv.slice(2);
const command = argv[0] && !argv[0].startsWith("-") ? argv[0] : "serve";
if (command === "serve") {
  await serve(argv[0] === "serve" ? argv.slice(1) : argv);
} else {
  const code = await runCli(argv);
  process.exit(code);
}
