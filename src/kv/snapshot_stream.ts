import { createHash } from "node:crypto";
import { rm } from "node:fs/promises";
import { concatBytes, readU64, viewOf } from "./bytes";
import { type BatchOp, type Db, openDb } from "./db";
import { META_APPLIED, META_MEMBERSHIP, META_REVISION } from "./keys";
import { decodeMembership, emptyMembership } from "./membership";
import { readMetaNumber } from "./history";
import { encodeHeader, encodeRecord, END_MARKER, type KvSnapshotMeta, SnapshotParser } from "./snapshot_format";

export const DEFAULT_SNAPSHOT_CHUNK_BYTES = 256 << 10;
const SCAN_BATCH = 512;
const INSTALL_BATCH_BYTES = 4 << 20;

/**
 * Streams every key of `db` as one consistent snapshot (a LevelDB snapshot pins the state at the
 * call), in chunks of about `chunkBytes`. Memory use is bounded by the chunk size.
 */
export async function* snapshotStream(db: Db, chunkBytes = DEFAULT_SNAPSHOT_CHUNK_BYTES): AsyncGenerator<Uint8Array> {
  const snapshot = db.snapshot();
  const it = db.iterator({ snapshot });
  const hash = createHash("sha256");
  let parts: Uint8Array[] = [];
  let size = 0;
  const take = () => {
    const chunk = concatBytes(...parts);
    hash.update(chunk);
    parts = [];
    size = 0;
    return chunk;
  };
  try {
    parts.push(encodeHeader(metaAt(db, snapshot)));
    size = parts[0].length;
    for (;;) {
      const rows = await it.nextv(SCAN_BATCH);
      if (rows.length === 0) break;
      for (const [k, v] of rows) {
        const record = encodeRecord(k, v);
        parts.push(record);
        size += record.length;
        if (size >= chunkBytes) yield take();
      }
    }
    parts.push(END_MARKER);
    const last = take();
    yield concatBytes(last, hash.digest());
  } finally {
    await it.close();
    await snapshot.close();
  }
}

function metaAt(db: Db, snapshot: ReturnType<Db["snapshot"]>): KvSnapshotMeta {
  const applied = db.getSync(META_APPLIED, { snapshot });
  const membershipBytes = db.getSync(META_MEMBERSHIP, { snapshot });
  const membership = membershipBytes ? decodeMembership(membershipBytes) : emptyMembership();
  return {
    index: applied ? readU64(viewOf(applied), 0) : 0,
    term: applied ? readU64(viewOf(applied), 8) : 0,
    revision: readMetaNumber(db.getSync(META_REVISION, { snapshot }), 0),
    conf: membership.conf,
    contexts: membership.contexts,
  };
}

/**
 * Writes a snapshot stream into a new database at `dir` (anything there is removed first) and
 * checks its checksum. On any error the directory is removed and the error rethrown.
 */
export async function installSnapshotStream(dir: string, chunks: AsyncIterable<Uint8Array>): Promise<KvSnapshotMeta> {
  await rm(dir, { recursive: true, force: true });
  const db = await openDb(dir);
  try {
    const parser = new SnapshotParser();
    let ops: BatchOp[] = [];
    let bytes = 0;
    for await (const chunk of chunks) {
      for (const [key, value] of parser.feed(chunk)) {
        ops.push({ type: "put", key, value });
        bytes += key.length + value.length;
        if (bytes >= INSTALL_BATCH_BYTES) {
          await db.batch(ops);
          ops = [];
          bytes = 0;
        }
      }
    }
    const meta = parser.finish();
    // sync: the runtime is about to discard its log up to the snapshot's index.
    await db.batch(ops, { sync: true });
    await db.close();
    return meta;
  } catch (err) {
    await db.close();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
