import { expectPositionals } from "../args";
import type { Command } from "../command";
import { EXIT_ERROR, EXIT_OK } from "../errors";
import { humanBytes, table, toJson } from "../output";

export const endpointStatusCommand: Command = {
  name: "endpoint status",
  args: "",
  summary: "a table of every endpoint's member id, role, leader, term, indexes and revision; exit 1 if one did not answer",
  flags: [],
  async run(ctx, args) {
    expectPositionals(args, []);
    const all = await ctx.client().statusAll();
    if (ctx.format === "json") {
      ctx.io.out(toJson(all.map((e) => ({ endpoint: e.endpoint, status: e.status, error: e.error?.rawMessage ?? null }))) + "\n");
    } else {
      const rows = all.map((e) =>
        e.status
          ? [e.endpoint, e.status.memberId, e.status.role, e.status.leaderId || "(none)", String(e.status.raftTerm), String(e.status.commitIndex), String(e.status.appliedIndex), String(e.status.revision), humanBytes(e.status.dbSizeBytes), e.status.version, ""]
          : [e.endpoint, "", "", "", "", "", "", "", "", "", e.error?.rawMessage ?? "no answer"],
      );
      ctx.io.out(table(["ENDPOINT", "ID", "ROLE", "LEADER", "TERM", "COMMIT", "APPLIED", "REVISION", "DB SIZE", "VERSION", "ERROR"], rows));
    }
    return all.every((e) => e.status) ? EXIT_OK : EXIT_ERROR;
  },
};

export const endpointHealthCommand: Command = {
  name: "endpoint health",
  args: "",
  summary: "is every endpoint up and does it know a leader? exit 1 if not",
  flags: [],
  async run(ctx, args) {
    expectPositionals(args, []);
    const all = await ctx.client().statusAll();
    const health = all.map((e) => {
      const healthy = e.status !== null && e.status.leaderId !== "";
      const error = e.error?.rawMessage ?? (e.status && !healthy ? "no leader known (election in progress or no quorum)" : "");
      return { endpoint: e.endpoint, healthy, tookMs: e.tookMs, error };
    });
    if (ctx.format === "json") ctx.io.out(toJson(health) + "\n");
    else ctx.io.out(table(["ENDPOINT", "HEALTH", "TOOK", "ERROR"], health.map((h) => [h.endpoint, h.healthy ? "healthy" : "unhealthy", `${h.tookMs}ms`, h.error])));
    return health.every((h) => h.healthy) ? EXIT_OK : EXIT_ERROR;
  },
};
