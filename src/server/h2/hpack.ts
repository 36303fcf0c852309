// HPACK (RFC 7541) for the server side of an HTTP/2 connection: a full decoder (static and
// dynamic table, Huffman strings) for request headers, and an encoder that needs no state (every
// field is a literal that is never added to the table; names from the static table where they
// are there), which is all a server sending a handful of fixed response headers needs.
import { HuffmanError, huffmanDecode } from "./huffman";

const STATIC_TABLE: readonly (readonly [string, string])[] = [
  [":authority", ""], [":method", "GET"], [":method", "POST"], [":path", "/"], [":path", "/index.html"],
  [":scheme", "http"], [":scheme", "https"], [":status", "200"], [":status", "204"], [":status", "206"],
  [":status", "304"], [":status", "400"], [":status", "404"], [":status", "500"], ["accept-charset", ""],
  ["accept-encoding", "gzip, deflate"], ["accept-language", ""], ["accept-ranges", ""], ["accept", ""],
  ["access-control-allow-origin", ""], ["age", ""], ["allow", ""], ["authorization", ""], ["cache-control", ""],
  ["content-disposition", ""], ["content-encoding", ""], ["content-language", ""], ["content-length", ""],
  ["content-location", ""], ["content-range", ""], ["content-type", ""], ["cookie", ""], ["date", ""],
  ["etag", ""], ["expect", ""], ["expires", ""], ["from", ""], ["host", ""], ["if-match", ""],
  ["if-modified-since", ""], ["if-none-match", ""], ["if-range", ""], ["if-unmodified-since", ""],
  ["last-modified", ""], ["link", ""], ["location", ""], ["max-forwards", ""], ["proxy-authenticate", ""],
  ["proxy-authorization", ""], ["range", ""], ["referer", ""], ["refresh", ""], ["retry-after", ""],
  ["server", ""], ["set-cookie", ""], ["strict-transport-security", ""], ["transfer-encoding", ""],
  ["user-agent", ""], ["vary", ""], ["via", ""], ["www-authenticate", ""],
];

/** A field's size as the table counts it: name and value octets plus 32 (RFC 7541 4.1). */
const ENTRY_OVERHEAD = 32;

export class HpackError extends Error {}

export type HeaderField = [name: string, value: string];

const latin1 = new TextDecoder("latin1");
function text(bytes: Uint8Array): string {
  return latin1.decode(bytes);
}

/**
 * The dynamic table of one direction of a connection (RFC 7541 2.3 and 4), numbered after the
 * static table, newest first. The decoder keeps one; an encoder that indexes keeps a copy in step.
 */
export class DynamicTable {
  private entries: HeaderField[] = [];
  private size = 0;

  constructor(private maxSize: number) {}

  /** The field at `index` (1-based, static table first), or undefined past the end. */
  field(index: number): readonly [string, string] | undefined {
    if (index <= STATIC_TABLE.length) return STATIC_TABLE[index - 1];
    return this.entries[index - STATIC_TABLE.length - 1];
  }

  /** The index of the newest dynamic entry that matches, or undefined. */
  indexOf(match: (field: HeaderField) => boolean): number | undefined {
    const i = this.entries.findIndex(match);
    return i < 0 ? undefined : STATIC_TABLE.length + 1 + i;
  }

  add(name: string, value: string): void {
    const size = name.length + value.length + ENTRY_OVERHEAD;
    this.evict(size);
    if (size > this.maxSize) return; // An entry larger than the table empties it (4.4).
    this.entries.unshift([name, value]);
    this.size += size;
  }

  /** A dynamic table size update: entries that no longer fit are dropped, oldest first. */
  resize(maxSize: number): void {
    this.maxSize = maxSize;
    this.evict(0);
  }

  /** Drops the oldest entries until `room` more bytes fit. */
  private evict(room: number): void {
    while (this.entries.length > 0 && this.size + room > this.maxSize) {
      const [name, value] = this.entries.pop()!;
      this.size -= name.length + value.length + ENTRY_OVERHEAD;
    }
  }
}

/** The decoding side of one connection: its dynamic table lives as long as the connection. */
export class HpackDecoder {
  private readonly table: DynamicTable;
  /** The block being decoded and the read position in it. */
  private block: Uint8Array = new Uint8Array(0);
  private pos = 0;

  constructor(
    /** SETTINGS_HEADER_TABLE_SIZE this side announced: the most the peer may set the table to. */
    private readonly settingsMaxTableSize = 4096,
    /** Decoded header list size (RFC 7540 6.5.2 counting) above which decoding fails. */
    private readonly maxHeaderListSize = 64 << 10,
  ) {
    this.table = new DynamicTable(settingsMaxTableSize);
  }

  /** Decodes one complete header block (HEADERS plus any CONTINUATION payloads, concatenated). */
  decode(block: Uint8Array): HeaderField[] {
    this.block = block;
    this.pos = 0;
    const fields: HeaderField[] = [];
    let listSize = 0;
    while (this.pos < block.length) {
      const b = block[this.pos];
      let name: string;
      let value: string;
      if (b & 0x80) {
        [name, value] = this.entry(this.integer(7));
      } else if (b & 0x40) {
        const index = this.integer(6);
        name = index === 0 ? this.string() : this.entry(index)[0];
        value = this.string();
        this.table.add(name, value);
      } else if (b & 0x20) {
        if (fields.length > 0) throw new HpackError("table size update after a header field");
        const size = this.integer(5);
        if (size > this.settingsMaxTableSize) throw new HpackError(`table size ${size} over the announced ${this.settingsMaxTableSize}`);
        this.table.resize(size);
        continue;
      } else {
        // Literal without indexing (0000) or never indexed (0001): same layout, 4-bit prefix.
        const index = this.integer(4);
        name = index === 0 ? this.string() : this.entry(index)[0];
        value = this.string();
      }
      listSize += name.length + value.length + ENTRY_OVERHEAD;
      if (listSize > this.maxHeaderListSize) throw new HpackError(`header list over ${this.maxHeaderListSize} bytes`);
      fields.push([name, value]);
    }
    return fields;
  }

  private integer(prefixBits: number): number {
    const block = this.block;
    const mask = (1 << prefixBits) - 1;
    let value = block[this.pos++] & mask;
    if (value < mask) return value;
    let shift = 0;
    for (;;) {
      if (this.pos >= block.length) throw new HpackError("truncated integer");
      const b = block[this.pos++];
      value += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (value > 0x7fffffff) throw new HpackError("integer too large");
      if ((b & 0x80) === 0) return value;
    }
  }

  private string(): string {
    const block = this.block;
    if (this.pos >= block.length) throw new HpackError("truncated string");
    const huffman = (block[this.pos] & 0x80) !== 0;
    const length = this.integer(7);
    if (this.pos + length > block.length) throw new HpackError("truncated string");
    const raw = block.subarray(this.pos, this.pos + length);
    this.pos += length;
    if (!huffman) return text(raw);
    try {
      return text(huffmanDecode(raw));
    } catch (err) {
      throw new HpackError(err instanceof HuffmanError ? err.message : String(err));
    }
  }

  private entry(index: number): readonly [string, string] {
    if (index === 0) throw new HpackError("index 0");
    const field = this.table.field(index);
    if (!field) throw new HpackError(`index ${index} is past the dynamic table`);
    return field;
  }
}

/** Static table indexes: of the first entry with a name, and of an exact field. */
export const STATIC_NAME_INDEX = new Map<string, number>();
const STATIC_FIELD_INDEX = new Map<string, Map<string, number>>();
STATIC_TABLE.forEach(([name, value], i) => {
  if (!STATIC_NAME_INDEX.has(name)) STATIC_NAME_INDEX.set(name, i + 1);
  let values = STATIC_FIELD_INDEX.get(name);
  if (!values) STATIC_FIELD_INDEX.set(name, (values = new Map()));
  if (!values.has(value)) values.set(value, i + 1);
});

/** The static table index of exactly this field, if it is there. */
export function staticFieldIndex(name: string, value: string): number | undefined {
  return STATIC_FIELD_INDEX.get(name)?.get(value);
}

export function pushInteger(out: number[], value: number, prefixBits: number, firstByte: number): void {
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    out.push(firstByte | value);
    return;
  }
  out.push(firstByte | max);
  value -= max;
  while (value >= 128) {
    out.push((value % 128) + 128);
    value = Math.floor(value / 128);
  }
  out.push(value);
}

export function pushString(out: number[], s: string): void {
  const bytes = Buffer.from(s, "latin1");
  pushInteger(out, bytes.length, 7, 0);
  for (const b of bytes) out.push(b);
}

/** A header list encoded once, for answers that repeat it (the fixed headers of a gRPC answer). */
export class EncodedHeaders {
  readonly block: Uint8Array;
  constructor(fields: readonly HeaderField[]) {
    this.block = encodeHeaders(fields);
  }
}

/**
 * Encodes a header list without touching any table: a field in the static table (":status: 200")
 * as its index, every other field as a literal never added to the table. Names must be lowercase.
 */
export function encodeHeaders(fields: readonly HeaderField[]): Uint8Array {
  const out: number[] = [];
  for (const [name, value] of fields) {
    const exact = staticFieldIndex(name, value);
    if (exact !== undefined) {
      pushInteger(out, exact, 7, 0x80);
      continue;
    }
    const index = STATIC_NAME_INDEX.get(name);
    if (index !== undefined) {
      pushInteger(out, index, 4, 0x00);
    } else {
      out.push(0x00);
      pushString(out, name);
    }
    pushString(out, value);
  }
  return Uint8Array.from(out);
}
