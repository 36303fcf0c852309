import { createWriteStream } from "node:fs";
import { access, rename, rm } from "node:fs/promises";
import { once } from "node:events";
import { expectPositionals, stringFlag } from "../args";
import type { Command } from "../command";
import { CliError, EXIT_OK, UsageError } from "../errors";
import { humanBytes, toJson } from "../output";
import { serve } from "../serve";
import { progressReporter } from "./progress";

export const snapshotSaveCommand: Command = {
  name: "snapshot save",
  args: "<file>",
  summary: "stream a backup of one member into <file>, checking its SHA-256 (progress on stderr)",
  details: "The backup is written to <file>.part and renamed to <file> only once its checksum matches.",
  flags: [{ name: "from", kind: "string", value: "ENDPOINT", help: "the endpoint to take it from (default: the first that answers)" }],
  async run(ctx, args) {
    const [file] = expectPositionals(args, ["file"]);
    const from = stringFlag(args, "from");
    if (from !== undefined && !ctx.endpoints.includes(from)) throw new UsageError(`--from ${from} is not one of --endpoints (${ctx.endpoints.join(",")})`);
    const partial = `${file}.part`;
    const out = createWriteStream(partial);
    const progress = progressReporter(ctx.io);
    let bytes = 0;
    let memberId = "";
    try {
      for await (const chunk of ctx.client().snapshot({ endpoint: from, signal: ctx.io.interrupted })) {
        if (!out.write(chunk.bytes)) await once(out, "drain");
        bytes = chunk.receivedBytes;
        memberId = chunk.memberId;
        progress.update(chunk.receivedBytes, chunk.totalBytes);
      }
      if (ctx.io.interrupted.aborted) throw new CliError("snapshot save interrupted; nothing was saved");
      out.end();
      await once(out, "finish");
      await rename(partial, file);
    } catch (err) {
      out.destroy();
      await rm(partial, { force: true });
      throw err;
    } finally {
      progress.done();
    }
    ctx.io.out(
      ctx.format === "json"
        ? toJson({ file, bytes, memberId, checksum: "verified" }) + "\n"
        : `Snapshot saved at ${file} (${humanBytes(bytes)} from ${memberId}, checksum verified)\n`,
    );
    return EXIT_OK;
  },
};

export const snapshotRestoreCommand: Command = {
  name: "snapshot restore",
  args: "<file>",
  summary: "start a NEW one-node cluster from a backup, serving its keys (runs until Ctrl-C)",
  details: [
    "Runs a node with --restore <file> in empty --log-dir/--kv-dir folders; it becomes the only member",
    "of a new cluster holding the backup's keys. Grow it with `rbkv member add` and nodes started with",
    "--join-addr. Later restarts use `rbkv serve` with the same folders (without --restore).",
    "Other node flags (--id, --tick-ms, ...) go after --, e.g. `... -- --id=restored`; see `rbkv serve --help`.",
    "Example:",
    "  rbkv snapshot restore backup.db --grpc-addr localhost:9511 --raft-addr localhost:9611 \\",
    "    --log-dir ./restored --kv-dir ./restored",
  ].join("\n"),
  flags: [
    { name: "grpc-addr", kind: "string", value: "HOST:PORT", help: "client address of the new node (required)" },
    { name: "raft-addr", kind: "string", value: "HOST:PORT", help: "Raft address of the new node (required)" },
    { name: "log-dir", kind: "string", value: "DIR", help: "folder for the Raft log; must be empty or new (required)" },
    { name: "kv-dir", kind: "string", value: "DIR", help: "folder for the key-value data; must be empty or new (required)" },
  ],
  async run(_ctx, args) {
    const [file, ...nodeFlags] = args.positionals;
    if (file === undefined) throw new UsageError("missing <file>");
    const stray = nodeFlags.find((f) => !f.startsWith("--"));
    if (stray !== undefined) throw new UsageError(`unexpected argument "${stray}" (node flags go after --)`);
    const missing = ["grpc-addr", "raft-addr", "log-dir", "kv-dir"].filter((f) => stringFlag(args, f) === undefined);
    if (missing.length > 0) throw new UsageError(`snapshot restore needs ${missing.map((m) => `--${m}`).join(", ")}`);
    try {
      await access(file);
    } catch {
      throw new CliError(`no backup file at ${file}; make one with "rbkv snapshot save ${file}"`);
    }
    await serve([...["grpc-addr", "raft-addr", "log-dir", "kv-dir"].map((f) => `--${f}=${stringFlag(args, f)}`), `--restore=${file}`, ...nodeFlags]);
    // The node runs until a signal stops it (serve exits the process).
    await new Promise<never>(() => {});
    return EXIT_OK;
  },
};
