import { type Compare, CompareResult, CompareTarget } from "../gen/rbkv/v1/kv_pb";
import { compareBytes } from "./bytes";
import type { StoredKv } from "./record";

/**
 * Evaluates one Txn compare against the key's state (undefined = absent: version, create and mod
 * revision are 0). Like etcd, a value compare on an absent key is false whatever the operator.
 */
export function compareHolds(c: Compare, kv: StoredKv | undefined): boolean {
  let order: number;
  switch (c.target) {
    case CompareTarget.VERSION:
      order = Math.sign((kv?.version ?? 0) - numberOf(c, "version"));
      break;
    case CompareTarget.CREATE:
      order = Math.sign((kv?.createRevision ?? 0) - numberOf(c, "createRevision"));
      break;
    case CompareTarget.MOD:
      order = Math.sign((kv?.modRevision ?? 0) - numberOf(c, "modRevision"));
      break;
    case CompareTarget.VALUE: {
      if (!kv) return false;
      const value = c.targetUnion.case === "value" ? c.targetUnion.value : new Uint8Array(0);
      order = Math.sign(compareBytes(kv.value, value));
      break;
    }
    default:
      return false;
  }
  switch (c.result) {
    case CompareResult.EQUAL:
      return order === 0;
    case CompareResult.NOT_EQUAL:
      return order !== 0;
    case CompareResult.GREATER:
      return order > 0;
    case CompareResult.LESS:
      return order < 0;
    default:
      return false;
  }
}

function numberOf(c: Compare, field: "version" | "createRevision" | "modRevision"): number {
  return c.targetUnion.case === field ? Number(c.targetUnion.value) : 0;
}
