import { ClassicLevel } from "classic-level";

export type Db = ClassicLevel<Uint8Array, Uint8Array>;
export type DbSnapshot = ReturnType<Db["snapshot"]>;

export type BatchOp = { type: "put"; key: Uint8Array; value: Uint8Array } | { type: "del"; key: Uint8Array };

export async function openDb(dir: string): Promise<Db> {
  const db: Db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: "view", valueEncoding: "view" });
  await db.open();
  return db;
}
