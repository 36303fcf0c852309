import { boolFlag, expectPositionals, stringFlag } from "../args";
import type { Command } from "../command";
import { EXIT_OK } from "../errors";
import { keyValueJson, toJson } from "../output";

export const putCommand: Command = {
  name: "put",
  args: "<key> <value>",
  summary: "write a key (prints OK)",
  flags: [
    { name: "ttl", kind: "string", value: "DURATION", help: "time to live: 30s, 5m, 1h30m (a bare number is seconds)" },
    { name: "prev-kv", kind: "bool", help: "print the previous key-value" },
  ],
  async run(ctx, args) {
    const [key, value] = expectPositionals(args, ["key", "value"]);
    const ttl = stringFlag(args, "ttl");
    const prevKv = boolFlag(args, "prev-kv");
    const res = await ctx.client().put(key, value, { ttl, prevKv });
    if (ctx.format === "json") {
      ctx.io.out(toJson({ revision: res.revision, memberId: res.memberId, prevKv: res.prevKv ? keyValueJson(res.prevKv) : null }) + "\n");
    } else {
      ctx.io.out("OK\n");
      if (res.prevKv) ctx.io.out(`${res.prevKv.keyText}\n${res.prevKv.valueText}\n`);
    }
    return EXIT_OK;
  },
};
