import { boolFlag, expectPositionals, intFlag } from "../args";
import type { Command } from "../command";
import { EXIT_OK } from "../errors";
import { keyValueJson, toJson } from "../output";

export const watchCommand: Command = {
  name: "watch",
  args: "<key>",
  summary: "print changes to a key or prefix as they happen, until Ctrl-C (reconnects by itself)",
  details: "Simple output per event: PUT|DELETE|EXPIRE, the key, then the value (puts only). -w json prints one JSON object per line.",
  flags: [
    { name: "prefix", kind: "bool", help: "every key starting with <key>" },
    { name: "rev", kind: "string", value: "N", help: "start from revision N (replays history; default: from now)" },
    { name: "prev-kv", kind: "bool", help: "include the previous value" },
  ],
  async run(ctx, args) {
    const [key] = expectPositionals(args, ["key"]);
    const rev = intFlag(args, "rev", 1);
    const prevKv = boolFlag(args, "prev-kv");
    const events = ctx.client().watch(key, { prefix: boolFlag(args, "prefix"), startRevision: rev, prevKv, signal: ctx.io.interrupted });
    for await (const e of events) {
      if (ctx.format === "json") {
        ctx.io.out(toJson({ type: e.type, revision: e.revision, kv: keyValueJson(e.kv), prevKv: e.prevKv ? keyValueJson(e.prevKv) : null }) + "\n");
        continue;
      }
      ctx.io.out(`${e.type.toUpperCase()}\n`);
      ctx.io.out(e.kv.key);
      ctx.io.out("\n");
      if (e.type === "put") {
        ctx.io.out(e.kv.value);
        ctx.io.out("\n");
      }
      if (e.prevKv) {
        ctx.io.out(e.prevKv.value);
        ctx.io.out("\n");
      }
    }
    return EXIT_OK;
  },
};
