import { ClassicLevel } from "classic-level";

export type Db = ClassicLevel<Uint8Array, Uint8Array>;
export type DbSnapshot = ReturnType<Db["snapshot"]>;

export type BatchOp = { type: "put"; key: Uint8Array; value: Uint8Array } | { type: "del"; key: Uint8Array };

export async function openDb(dir: string): Promise<Db> {
  // Every open table file keeps its index and filter blocks in memory: with a large store the
  // default of 1,000 open files costs more RAM than the data cache. 128 keeps memory bounded.
  const db: Db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: "view", valueEncoding: "view", maxOpenFiles: 128 });
  await db.open();
  return db;
}
