import type { TxnOpResult } from "../../client";
import { expectPositionals } from "../args";
import type { Command } from "../command";
import { EXIT_OK, EXIT_TXN_FAILED } from "../errors";
import type { CliIo } from "../io";
import { keyValueJson, toJson } from "../output";
import { parseTxn } from "../txn_parse";
import { printKeyValue } from "./kv_print";

function printResult(io: CliIo, r: TxnOpResult): void {
  switch (r.type) {
    case "put":
      io.out("OK\n");
      return;
    case "delete":
      io.out(`${r.deleted}\n`);
      return;
    case "get":
      if (r.kv) printKeyValue(io, r.kv);
      return;
    case "range":
      for (const kv of r.kvs) printKeyValue(io, kv);
  }
}

function resultJson(r: TxnOpResult): Record<string, unknown> {
  switch (r.type) {
    case "put":
      return { type: "put", prevKv: r.prevKv ? keyValueJson(r.prevKv) : null };
    case "delete":
      return { type: "delete", deleted: r.deleted };
    case "get":
      return { type: "get", kv: r.kv ? keyValueJson(r.kv) : null };
    case "range":
      return { type: "range", count: r.count, more: r.more, kvs: r.kvs.map(keyValueJson) };
  }
}

export const txnCommand: Command = {
  name: "txn",
  args: "",
  summary: "compare-and-swap: reads compares and ops from stdin (etcdctl's format); exit 3 when a compare failed",
  details: [
    "Input: compares, a blank line, ops to run if all compares hold, a blank line, ops to run otherwise.",
    '  compares: value("k") = "v"   mod("k") > "3"   create("k") = "0"   version("k") != "2"   (=, !=, >, <)',
    "  ops:      put k v [--ttl 30s]   get k [--prefix]   del k [--prefix]   (quote words with spaces: \"a b\")",
    "Prints SUCCESS or FAILURE, then each op's result. Exit code 0 after SUCCESS, 3 after FAILURE.",
    "Example:",
    "  printf 'value(\"k\") = \"v1\"\\n\\nput k v2\\n\\nget k\\n' | rbkv txn",
  ].join("\n"),
  flags: [],
  async run(ctx, args) {
    expectPositionals(args, []);
    if (ctx.io.stdinIsTty) ctx.io.err("compares, blank line, success ops, blank line, failure ops; end with Ctrl-D:\n");
    const parsed = parseTxn(await ctx.io.readStdin());
    const res = await ctx.client().txn().if(...parsed.compares).then(...parsed.success).else(...parsed.failure).commit();
    if (ctx.format === "json") {
      ctx.io.out(toJson({ succeeded: res.succeeded, revision: res.revision, results: res.results.map(resultJson) }) + "\n");
    } else {
      ctx.io.out(res.succeeded ? "SUCCESS\n\n" : "FAILURE\n\n");
      for (const r of res.results) printResult(ctx.io, r);
    }
    return res.succeeded ? EXIT_OK : EXIT_TXN_FAILED;
  },
};
