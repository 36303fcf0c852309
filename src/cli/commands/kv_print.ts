// Printing key-values the way etcdctl does: key line, value line (raw bytes).
import type { KeyValue } from "../../client";
import type { CliIo } from "../io";

const NEWLINE = new Uint8Array([0x0a]);

export function printKeyValue(io: CliIo, kv: KeyValue, keysOnly = false): void {
  io.out(kv.key);
  io.out(NEWLINE);
  if (keysOnly) return;
  io.out(kv.value);
  io.out(NEWLINE);
}
