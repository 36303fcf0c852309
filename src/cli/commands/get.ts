import { boolFlag, expectPositionals, intFlag } from "../args";
import type { Command } from "../command";
import { EXIT_OK } from "../errors";
import { keyValueJson, toJson } from "../output";
import { printKeyValue } from "./kv_print";

export const getCommand: Command = {
  name: "get",
  args: "<key> [<range-end>]",
  summary: "read a key, a prefix (--prefix) or a range [key, range-end); a missing key prints nothing",
  flags: [
    { name: "prefix", kind: "bool", help: "every key starting with <key>" },
    { name: "serializable", kind: "bool", help: "read the member's local state at once (may be stale; default linearizable)" },
    { name: "keys-only", kind: "bool", help: "print keys without values" },
    { name: "count-only", kind: "bool", help: "print only the number of keys" },
    { name: "limit", kind: "string", value: "N", help: "at most N keys" },
  ],
  async run(ctx, args) {
    const [key, rangeEnd] = expectPositionals(args, ["key"], ["range-end"]);
    const options = {
      serializable: boolFlag(args, "serializable"),
      keysOnly: boolFlag(args, "keys-only"),
      countOnly: boolFlag(args, "count-only"),
      limit: intFlag(args, "limit", 0),
    };
    const client = ctx.client();
    const res = boolFlag(args, "prefix")
      ? await client.getPrefix(key, options)
      : await client.range(key, rangeEnd ?? "", options);
    if (ctx.format === "json") {
      ctx.io.out(toJson({ revision: res.revision, memberId: res.memberId, count: res.count, more: res.more, kvs: res.kvs.map(keyValueJson) }) + "\n");
      return EXIT_OK;
    }
    if (options.countOnly) {
      ctx.io.out(`${res.count}\n`);
      return EXIT_OK;
    }
    for (const kv of res.kvs) printKeyValue(ctx.io, kv, options.keysOnly);
    return EXIT_OK;
  },
};
