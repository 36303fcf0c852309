// HPACK for the benchmark client's request headers with a dynamic table, as gRPC clients send
// them (grpc-js through nghttp2, grpc-go): a field's first use on a connection is a literal the
// server adds to its table, every later use a one-byte reference. The server then decodes a call's
// headers from the table instead of as new strings, which is what it does for real clients.
import { ENTRY_OVERHEAD, type HeaderField, pushInteger, pushString, STATIC_TABLE } from "../../src/server/h2/hpack";

/** SETTINGS_HEADER_TABLE_SIZE until the peer says otherwise (RFC 9113 6.5.2). */
export const PROTOCOL_TABLE_SIZE = 4096;

const STATIC_FIELD = new Map<string, number>();
const STATIC_NAME = new Map<string, number>();
STATIC_TABLE.forEach(([name, value], i) => {
  if (!STATIC_FIELD.has(`${name}\0${value}`)) STATIC_FIELD.set(`${name}\0${value}`, i + 1);
  if (!STATIC_NAME.has(name)) STATIC_NAME.set(name, i + 1);
});

/** The encoding side of one connection's request headers; its table mirrors the server's. */
export class HeaderIndexer {
  /** Newest first, as the decoder numbers them. */
  private table: HeaderField[] = [];
  private tableSize = 0;
  /** Bumped whenever the table changes: a cached block is only valid for the table it was made against. */
  private generation = 0;
  private readonly blocks = new Map<string, { generation: number; block: Uint8Array }>();
  /** Table size updates to send at the start of the next block. */
  private pendingUpdates: number[] = [];

  constructor(private maxSize = PROTOCOL_TABLE_SIZE) {}

  /** The peer allows at most `size`: the table is emptied and used at the new size from the next block. */
  limit(size: number): void {
    if (size >= this.maxSize) return;
    this.maxSize = size;
    this.table = [];
    this.tableSize = 0;
    this.generation++;
    this.pendingUpdates = [0, size];
  }

  /** The header block for `fields`; `key` names the list (the same key, the same fields). */
  block(key: string, fields: readonly HeaderField[]): Uint8Array {
    const cached = this.blocks.get(key);
    if (cached && cached.generation === this.generation) return cached.block;
    const before = this.generation;
    const block = this.encode(fields);
    // A block that added to the table must not be sent again as it is.
    if (this.generation === before) this.blocks.set(key, { generation: before, block });
    return block;
  }

  private encode(fields: readonly HeaderField[]): Uint8Array {
    const out: number[] = [];
    for (const size of this.pendingUpdates) pushInteger(out, size, 5, 0x20);
    if (this.pendingUpdates.length > 0) this.generation++;
    this.pendingUpdates = [];
    for (const [name, value] of fields) {
      const index = STATIC_FIELD.get(`${name}\0${value}`) ?? this.dynamicIndex((f) => f[0] === name && f[1] === value);
      if (index !== undefined) {
        pushInteger(out, index, 7, 0x80);
        continue;
      }
      const nameIndex = STATIC_NAME.get(name) ?? this.dynamicIndex((f) => f[0] === name) ?? 0;
      pushInteger(out, nameIndex, 6, 0x40);
      if (nameIndex === 0) pushString(out, name);
      pushString(out, value);
      this.add(name, value);
    }
    return Uint8Array.from(out);
  }

  private dynamicIndex(match: (f: HeaderField) => boolean): number | undefined {
    const i = this.table.findIndex(match);
    return i < 0 ? undefined : STATIC_TABLE.length + 1 + i;
  }

  /** As the decoder does (RFC 7541 4.4): evict the oldest until it fits; a field larger than the table empties it. */
  private add(name: string, value: string): void {
    const size = name.length + value.length + ENTRY_OVERHEAD;
    while (this.table.length > 0 && this.tableSize + size > this.maxSize) {
      const [n, v] = this.table.pop()!;
      this.tableSize -= n.length + v.length + ENTRY_OVERHEAD;
    }
    if (size <= this.maxSize) {
      this.table.unshift([name, value]);
      this.tableSize += size;
    }
    this.generation++;
  }
}
