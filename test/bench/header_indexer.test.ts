import { expect, test } from "bun:test";
import { HeaderIndexer } from "../../bench/lib/header_indexer";
import { type HeaderField, HpackDecoder } from "../../src/server/h2/hpack";

const request = (path: string): HeaderField[] => [
  [":method", "POST"],
  [":scheme", "http"],
  [":path", path],
  [":authority", "127.0.0.1:2379"],
  ["content-type", "application/grpc"],
  ["te", "trailers"],
];

test("a header list's first block adds its fields to the table; later blocks are one-byte references", () => {
  const indexer = new HeaderIndexer();
  const decoder = new HpackDecoder();
  const first = indexer.block("put", request("/rbkv.v1.KV/Put"));
  expect(decoder.decode(first)).toEqual(request("/rbkv.v1.KV/Put"));
  const second = indexer.block("put", request("/rbkv.v1.KV/Put"));
  expect(second.length).toBe(6);
  expect(decoder.decode(second)).toEqual(request("/rbkv.v1.KV/Put"));
  expect(indexer.block("put", request("/rbkv.v1.KV/Put"))).toBe(second); // cached while the table stands
  // A second path shares the authority, content-type and te entries, and adds only its path.
  const get = indexer.block("get", request("/rbkv.v1.KV/Get"));
  expect(get.length).toBeLessThan(first.length);
  expect(decoder.decode(get)).toEqual(request("/rbkv.v1.KV/Get"));
  // The table moved: the cached put block is re-encoded against it, and still decodes.
  expect(decoder.decode(indexer.block("put", request("/rbkv.v1.KV/Put")))).toEqual(request("/rbkv.v1.KV/Put"));
});

test("with a table smaller than the protocol's, evictions on both sides stay in step", () => {
  const indexer = new HeaderIndexer();
  const decoder = new HpackDecoder();
  expect(decoder.decode(indexer.block("a", request("/svc/A")))).toEqual(request("/svc/A"));
  indexer.limit(160); // the peer's SETTINGS_HEADER_TABLE_SIZE: room for about three of these fields
  const next = indexer.block("te", [["te", "trailers"]]);
  expect([...next.subarray(0, 4)]).toEqual([0x20, 0x3f, 0x81, 0x01]); // table size updates to 0, then 160
  // The update to 0 emptied both tables: the field is sent again, not referred to.
  expect(decoder.decode(next)).toEqual([["te", "trailers"]]);
  for (let i = 0; i < 200; i++) {
    const path = `/svc/M${i % 7}`;
    expect(decoder.decode(indexer.block(path, request(path)))).toEqual(request(path));
  }
});
