import { readU64, viewOf } from "./bytes";
import type { Db } from "./db";
import { EXPIRY_START, expiryKeyAfter, parseExpiryKey } from "./keys";

/** A key the leader may propose to expire (fields of ExpiringKey in raft.proto). */
export interface ExpiredKey {
  key: Uint8Array;
  modRevision: number;
  expiresAtMs: number;
}

/** Up to `limit` keys whose expiry is <= nowMs, oldest expiry first. */
export async function readExpiredKeys(db: Db, nowMs: number, limit: number): Promise<ExpiredKey[]> {
  if (limit <= 0) return [];
  const it = db.iterator({ gte: EXPIRY_START, lt: expiryKeyAfter(nowMs), limit });
  try {
    const rows = await it.all();
    return rows.map(([k, v]) => {
      const { expiresAtMs, userKey } = parseExpiryKey(k);
      return { key: Uint8Array.from(userKey), modRevision: readU64(viewOf(v), 0), expiresAtMs };
    });
  } finally {
    await it.close();
  }
}
