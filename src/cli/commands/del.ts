import { boolFlag, expectPositionals } from "../args";
import type { Command } from "../command";
import { EXIT_OK } from "../errors";
import { keyValueJson, toJson } from "../output";
import { printKeyValue } from "./kv_print";

export const delCommand: Command = {
  name: "del",
  args: "<key>",
  summary: "delete a key, or every key with a prefix (--prefix); prints how many were deleted",
  flags: [
    { name: "prefix", kind: "bool", help: "every key starting with <key>" },
    { name: "prev-kv", kind: "bool", help: "print the deleted key-values" },
  ],
  async run(ctx, args) {
    const [key] = expectPositionals(args, ["key"]);
    const prevKv = boolFlag(args, "prev-kv");
    const res = await ctx.client().delete(key, { prefix: boolFlag(args, "prefix"), prevKv });
    if (ctx.format === "json") {
      ctx.io.out(toJson({ revision: res.revision, deleted: res.deleted, prevKvs: res.prevKvs.map(keyValueJson) }) + "\n");
      return EXIT_OK;
    }
    ctx.io.out(`${res.deleted}\n`);
    for (const kv of res.prevKvs) printKeyValue(ctx.io, kv);
    return EXIT_OK;
  },
};
