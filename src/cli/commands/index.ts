// Every subcommand, in the order `rbkv help` lists them.
import type { Command } from "../command";
import { delCommand } from "./del";
import { endpointHealthCommand, endpointStatusCommand } from "./endpoint";
import { getCommand } from "./get";
import { leaderTransferCommand, memberAddCommand, memberListCommand, memberPromoteCommand, memberRemoveCommand } from "./member";
import { putCommand } from "./put";
import { snapshotRestoreCommand, snapshotSaveCommand } from "./snapshot";
import { txnCommand } from "./txn";
import { watchCommand } from "./watch";

export const COMMANDS: Command[] = [
  putCommand,
  getCommand,
  delCommand,
  watchCommand,
  txnCommand,
  memberListCommand,
  memberAddCommand,
  memberRemoveCommand,
  memberPromoteCommand,
  leaderTransferCommand,
  endpointStatusCommand,
  endpointHealthCommand,
  snapshotSaveCommand,
  snapshotRestoreCommand,
];
