// HPACK for the benchmark client's request headers with a dynamic table, as gRPC clients send
// them (grpc-js through nghttp2, grpc-go): a field's first use on a connection is a literal the
// server adds to its table, every later use a one-byte reference. The server then decodes a call's
// headers from the table instead of as new strings, which is what it does for real clients.
import { DynamicTable, type HeaderField, pushInteger, pushString, STATIC_NAME_INDEX, staticFieldIndex } from "../../src/server/h2/hpack";

/** SETTINGS_HEADER_TABLE_SIZE until the peer says otherwise (RFC 9113 6.5.2). */
export const PROTOCOL_TABLE_SIZE = 4096;

/** The encoding side of one connection's request headers; its table mirrors the server's. */
export class HeaderIndexer {
  private readonly table: DynamicTable;
  private maxSize: number;
  /** Bumped whenever the table changes: a cached block is only valid for the table it was made against. */
  private generation = 0;
  private readonly blocks = new Map<string, { generation: number; block: Uint8Array }>();
  /** Table size updates to send at the start of the next block. */
  private pendingUpdates: number[] = [];

  constructor(maxSize = PROTOCOL_TABLE_SIZE) {
    this.maxSize = maxSize;
    this.table = new DynamicTable(maxSize);
  }

  /** The peer allows at most `size`: the table is emptied and used at the new size from the next block. */
  limit(size: number): void {
    if (size >= this.maxSize) return;
    this.maxSize = size;
    // What the decoder will do with the two updates sent ahead of the next block.
    this.table.resize(0);
    this.table.resize(size);
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
      const index = staticFieldIndex(name, value) ?? this.table.indexOf((f) => f[0] === name && f[1] === value);
      if (index !== undefined) {
        pushInteger(out, index, 7, 0x80);
        continue;
      }
      const nameIndex = STATIC_NAME_INDEX.get(name) ?? this.table.indexOf((f) => f[0] === name) ?? 0;
      pushInteger(out, nameIndex, 6, 0x40);
      if (nameIndex === 0) pushString(out, name);
      pushString(out, value);
      this.table.add(name, value);
      this.generation++;
    }
    return Uint8Array.from(out);
  }
}
