import type { MemberInfo } from "../../client";
import { boolFlag, expectPositionals, stringFlag } from "../args";
import type { Command } from "../command";
import type { CommandContext } from "../context";
import { EXIT_OK, UsageError } from "../errors";
import { table, toJson } from "../output";

function printMembers(ctx: CommandContext, members: MemberInfo[], extra: Record<string, unknown> = {}): void {
  if (ctx.format === "json") {
    ctx.io.out(toJson({ ...extra, members }) + "\n");
    return;
  }
  const rows = members.map((m) => [m.id, m.isLeader ? "leader" : m.isLearner ? "learner" : "voter", m.grpcAddr, m.raftAddr]);
  ctx.io.out(table(["ID", "ROLE", "GRPC ADDR", "RAFT ADDR"], rows));
}

export const memberListCommand: Command = {
  name: "member list",
  args: "",
  summary: "list the members, with the leader marked",
  flags: [],
  async run(ctx, args) {
    expectPositionals(args, []);
    printMembers(ctx, await ctx.client().members());
    return EXIT_OK;
  },
};

export const memberAddCommand: Command = {
  name: "member add",
  args: "<id>",
  summary: "add a member (then start it with --join-addr pointing at the cluster)",
  flags: [
    { name: "grpc-addr", kind: "string", value: "HOST:PORT", help: "the new member's client address (required)" },
    { name: "raft-addr", kind: "string", value: "HOST:PORT", help: "the new member's Raft address (required)" },
    { name: "learner", kind: "bool", help: "add as a learner (no vote) to promote later" },
  ],
  async run(ctx, args) {
    const [id] = expectPositionals(args, ["id"]);
    const grpcAddr = stringFlag(args, "grpc-addr");
    const raftAddr = stringFlag(args, "raft-addr");
    if (!grpcAddr || !raftAddr) throw new UsageError("member add needs --grpc-addr and --raft-addr");
    const res = await ctx.client().memberAdd(id, { grpcAddr, raftAddr, learner: boolFlag(args, "learner") });
    if (ctx.format !== "json") ctx.io.out(`Member ${id} added${boolFlag(args, "learner") ? " as a learner" : ""}.\n`);
    printMembers(ctx, res.members, { added: res.member });
    return EXIT_OK;
  },
};

export const memberRemoveCommand: Command = {
  name: "member remove",
  args: "<id>",
  summary: "remove a member",
  flags: [],
  async run(ctx, args) {
    const [id] = expectPositionals(args, ["id"]);
    const members = await ctx.client().memberRemove(id);
    if (ctx.format !== "json") ctx.io.out(`Member ${id} removed.\n`);
    printMembers(ctx, members, { removed: id });
    return EXIT_OK;
  },
};

export const memberPromoteCommand: Command = {
  name: "member promote",
  args: "<id>",
  summary: "turn a learner into a voter (once it has caught up)",
  flags: [],
  async run(ctx, args) {
    const [id] = expectPositionals(args, ["id"]);
    const members = await ctx.client().memberPromote(id);
    if (ctx.format !== "json") ctx.io.out(`Member ${id} promoted.\n`);
    printMembers(ctx, members, { promoted: id });
    return EXIT_OK;
  },
};

export const leaderTransferCommand: Command = {
  name: "leader transfer",
  args: "[<id>]",
  summary: "hand leadership to member <id> (default: the most caught-up other voter)",
  flags: [],
  async run(ctx, args) {
    const [id] = expectPositionals(args, [], ["id"]);
    const leader = await ctx.client().transferLeadership(id ?? "");
    ctx.io.out(ctx.format === "json" ? toJson({ leaderId: leader }) + "\n" : `Leadership transferred to ${leader}.\n`);
    return EXIT_OK;
  },
};
