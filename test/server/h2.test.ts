// The HTTP/2 layer on its own: HPACK against RFC 7541's examples, and the connection against raw
// frames (what well-behaved clients never send is where the bugs hide). Real clients (grpc-js,
// connect-node) run through it in the other server tests.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as net from "node:net";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Cluster } from "../../src/gen/rbkv/v1/cluster_pb";
import { GetRequestSchema, GetResponseSchema, KV, PutRequestSchema } from "../../src/gen/rbkv/v1/kv_pb";
import { H2Connection, type H2ConnectionOptions } from "../../src/server/h2/connection";
import { CONNECTION_PREFACE, ErrorCode, Flag, frameHeader, FrameType, goAwayFrame, Setting, settingsFrame, windowUpdateFrame } from "../../src/server/h2/frames";
import { encodeHeaders, HpackDecoder, HpackError, type HeaderField } from "../../src/server/h2/hpack";
import { huffmanCodes, huffmanDecode } from "../../src/server/h2/huffman";
import type { H2Stream } from "../../src/server/h2/stream";
import { makeClient } from "./clients";
import { startHarness, type Harness } from "./harness";

const hex = (h: string) => new Uint8Array(h.replace(/\s/g, "").match(/../g)!.map((x) => parseInt(x, 16)));

describe("HPACK", () => {
  test("the Huffman code is complete and matches RFC 7541 Appendix B", () => {
    const codes = huffmanCodes();
    expect(codes.reduce((sum, c) => sum + 2 ** -c.length, 0)).toBe(1);
    const known: [number, number, number][] = [
      [0, 0x1ff8, 13], [10, 0x3ffffffc, 30], [32, 0x14, 6], [47, 0x18, 6], [97, 0x3, 5], [92, 0x7fff0, 19],
      [127, 0xffffffc, 28], [199, 0x1ffffec, 25], [255, 0x3ffffee, 26], [256, 0x3fffffff, 30],
    ];
    for (const [symbol, code, length] of known) expect(codes[symbol]).toEqual({ code, length });
  });

  test("RFC 7541 C.3: requests without Huffman coding share one dynamic table", () => {
    const d = new HpackDecoder();
    expect(d.decode(hex("8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d"))).toEqual([[":method", "GET"], [":scheme", "http"], [":path", "/"], [":authority", "www.example.com"]]);
    expect(d.decode(hex("8286 84be 5808 6e6f 2d63 6163 6865"))).toContainEqual(["cache-control", "no-cache"]);
    expect(d.decode(hex("8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65"))).toEqual([
      [":method", "GET"], [":scheme", "https"], [":path", "/index.html"], [":authority", "www.example.com"], ["custom-key", "custom-value"],
    ]);
  });

  test("RFC 7541 C.4: the same requests with Huffman-coded strings", () => {
    const d = new HpackDecoder();
    expect(d.decode(hex("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff"))).toContainEqual([":authority", "www.example.com"]);
    expect(d.decode(hex("8286 84be 5886 a8eb 1064 9cbf"))).toEqual([[":method", "GET"], [":scheme", "http"], [":path", "/"], [":authority", "www.example.com"], ["cache-control", "no-cache"]]);
  });

  test("RFC 7541 C.2: literal never indexed, literal without indexing, indexed", () => {
    expect(new HpackDecoder().decode(hex("1008 7061 7373 776f 7264 0673 6563 7265 74"))).toEqual([["password", "secret"]]);
    expect(new HpackDecoder().decode(hex("040c 2f73 616d 706c 652f 7061 7468"))).toEqual([[":path", "/sample/path"]]);
    expect(new HpackDecoder().decode(hex("82"))).toEqual([[":method", "GET"]]);
  });

  test("entries are evicted oldest first when the table is full", () => {
    const d = new HpackDecoder(100);
    d.decode(hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572")); // 55 bytes
    d.decode(hex("4004 6b65 7932 0676 616c 7565 32")); // "key2: value2", 42 bytes: 97 in all
    d.decode(hex("4004 6b65 7933 0676 616c 7565 33")); // evicts custom-key
    expect(d.decode(hex("be bf"))).toEqual([["key3", "value3"], ["key2", "value2"]]);
    expect(() => d.decode(hex("c0"))).toThrow(HpackError);
  });

  test("bad blocks are errors, not guesses", () => {
    expect(() => new HpackDecoder().decode(hex("be"))).toThrow(HpackError); // past the empty dynamic table
    expect(() => new HpackDecoder().decode(hex("80"))).toThrow(HpackError); // index 0
    expect(() => new HpackDecoder().decode(hex("3fe2 1f"))).toThrow(HpackError); // table size 4097, over 4096
    expect(new HpackDecoder().decode(hex("3fe1 1f 82"))).toEqual([[":method", "GET"]]); // 4096 is fine
    expect(() => new HpackDecoder().decode(hex("82 20"))).toThrow(HpackError); // size update after a field
    expect(() => new HpackDecoder().decode(hex("ff ff ff ff ff 7f"))).toThrow(HpackError); // integer overflow
    expect(() => new HpackDecoder().decode(hex("0410 2f"))).toThrow(HpackError); // truncated string
    expect(() => new HpackDecoder(4096, 100).decode(encodeHeaders([["x", "a".repeat(100)]]))).toThrow(HpackError);
    expect(() => huffmanDecode(hex("00"))).toThrow(); // padding of zeros
    expect(() => huffmanDecode(hex("ffffffff"))).toThrow(); // EOS
    expect(() => huffmanDecode(hex("1f ff"))).toThrow(); // padding longer than 7 bits
  });

  test("encodeHeaders round-trips, long values included", () => {
    const fields: HeaderField[] = [[":status", "200"], [":status", "404"], ["content-type", "application/grpc"], ["grpc-message", "x".repeat(1000)], ["x-custom", ""]];
    expect(new HpackDecoder().decode(encodeHeaders(fields))).toEqual(fields);
  });
});

interface Frame {
  type: number;
  flags: number;
  stream: number;
  payload: Buffer;
}

/** A raw HTTP/2 client: writes bytes, reads frames. */
class RawClient {
  private buf = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  closed = false;
  readonly socket: net.Socket;

  constructor(port: number) {
    this.socket = net.connect({ host: "127.0.0.1", port });
    this.socket.on("data", (c: Buffer) => {
      this.buf = Buffer.concat([this.buf, c]);
      this.wake();
    });
    this.socket.on("close", () => {
      this.closed = true;
      this.wake();
    });
    this.socket.on("error", () => {});
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  send(...parts: Uint8Array[]): void {
    this.socket.write(Buffer.concat(parts));
  }

  frame(type: FrameType, flags: number, stream: number, payload: Uint8Array = new Uint8Array(0)): Buffer {
    return Buffer.concat([frameHeader(payload.length, type, flags, stream), payload]);
  }

  /** Preface and an empty SETTINGS, as every client starts. */
  start(settings: [Setting, number][] = []): void {
    this.send(CONNECTION_PREFACE, settingsFrame(settings));
  }

  async next(timeoutMs = 2000): Promise<Frame | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.buf.length >= 9) {
        const length = this.buf.readUIntBE(0, 3);
        if (this.buf.length >= 9 + length) {
          const f = { type: this.buf[3], flags: this.buf[4], stream: this.buf.readUInt32BE(5) & 0x7fffffff, payload: this.buf.subarray(9, 9 + length) };
          this.buf = this.buf.subarray(9 + length);
          return f;
        }
      }
      if (this.closed || Date.now() > deadline) return null;
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  /** Frames until one matches (skipping SETTINGS, its ACK and WINDOW_UPDATEs unless asked for). */
  async until(match: (f: Frame) => boolean): Promise<Frame> {
    for (;;) {
      const f = await this.next();
      if (!f) throw new Error("connection closed or timed out before the expected frame");
      if (match(f)) return f;
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

function grpcRequestHeaders(path: string): Uint8Array {
  return encodeHeaders([[":method", "POST"], [":scheme", "http"], [":path", path], [":authority", "test"], ["content-type", "application/grpc"], ["te", "trailers"]]);
}

function grpcFrame(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + message.length);
  new DataView(out.buffer).setUint32(1, message.length);
  out.set(message, 5);
  return out;
}

const getBody = (key: string) => grpcFrame(toBinary(GetRequestSchema, create(GetRequestSchema, { key: new TextEncoder().encode(key) })));

function goAwayCode(f: Frame): number {
  return f.payload.readUInt32BE(4);
}

describe("HTTP/2 connection, raw frames", () => {
  let h: Harness;
  const clients: RawClient[] = [];
  const client = (): RawClient => {
    const c = new RawClient(h.port);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    h = await startHarness();
    await h.kv.put(create(PutRequestSchema, { key: new TextEncoder().encode("big"), value: new Uint8Array(1000).fill(7) }));
    await h.kv.put(create(PutRequestSchema, { key: new TextEncoder().encode("small"), value: new TextEncoder().encode("v") }));
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await h.server.close();
  });

  test("answers SETTINGS with an ACK and PING with the same payload", async () => {
    const c = client();
    c.start();
    const settings = await c.until((f) => f.type === FrameType.Settings && !(f.flags & Flag.Ack));
    expect(settings.payload.length % 6).toBe(0);
    await c.until((f) => f.type === FrameType.Settings && (f.flags & Flag.Ack) !== 0);
    c.send(c.frame(FrameType.Ping, 0, 0, Buffer.from("12345678")));
    const pong = await c.until((f) => f.type === FrameType.Ping);
    expect(pong.flags & Flag.Ack).toBe(Flag.Ack);
    expect(pong.payload.toString()).toBe("12345678");
  });

  test("a unary call split over padded HEADERS, CONTINUATION and padded DATA frames", async () => {
    const c = client();
    c.start();
    const block = grpcRequestHeaders("/rbkv.v1.KV/Get");
    const padded = (data: Uint8Array, pad: number) => Buffer.concat([Buffer.from([pad]), data, Buffer.alloc(pad)]);
    c.send(
      c.frame(FrameType.Headers, Flag.Padded, 1, padded(block.subarray(0, 10), 3)),
      c.frame(FrameType.Continuation, 0, 1, block.subarray(10, 20)),
      c.frame(FrameType.Continuation, Flag.EndHeaders, 1, block.subarray(20)),
    );
    const body = getBody("small");
    c.send(c.frame(FrameType.Data, Flag.Padded, 1, padded(body.subarray(0, 4), 2)), c.frame(FrameType.Data, Flag.EndStream, 1, body.subarray(4)));
    const headers = await c.until((f) => f.type === FrameType.Headers && f.stream === 1);
    const decoder = new HpackDecoder();
    expect(decoder.decode(headers.payload)).toContainEqual([":status", "200"]);
    const data = await c.until((f) => f.type === FrameType.Data && f.stream === 1);
    const res = fromBinary(GetResponseSchema, data.payload.subarray(5));
    expect(new TextDecoder().decode(res.kv?.value)).toBe("v");
    const trailers = await c.until((f) => f.type === FrameType.Headers && f.stream === 1);
    expect(trailers.flags & Flag.EndStream).toBe(Flag.EndStream);
    expect(decoder.decode(trailers.payload)).toEqual([["grpc-status", "0"]]);
  });

  test("a response larger than the client's window waits for WINDOW_UPDATE", async () => {
    const c = client();
    c.start([[Setting.InitialWindowSize, 100]]);
    c.send(c.frame(FrameType.Headers, Flag.EndHeaders, 1, grpcRequestHeaders("/rbkv.v1.KV/Get")), c.frame(FrameType.Data, Flag.EndStream, 1, getBody("big")));
    let received = 0;
    for (;;) {
      const f = await c.next(300);
      if (!f) break;
      if (f.type === FrameType.Data) received += f.payload.length;
      expect(f.type === FrameType.Headers && (f.flags & Flag.EndStream) !== 0).toBe(false);
    }
    expect(received).toBe(100);
    c.send(windowUpdateFrame(1, 5000));
    await c.until((f) => {
      if (f.type === FrameType.Data) received += f.payload.length;
      return f.type === FrameType.Headers && (f.flags & Flag.EndStream) !== 0;
    });
    expect(received).toBeGreaterThan(1000);
  });

  test("a stream the client resets gets no answer, and the connection goes on", async () => {
    const c = client();
    c.start();
    c.send(c.frame(FrameType.Headers, Flag.EndHeaders, 1, grpcRequestHeaders("/rbkv.v1.KV/Get")));
    c.send(c.frame(FrameType.RstStream, 0, 1, Buffer.from([0, 0, 0, ErrorCode.Cancel])));
    c.send(c.frame(FrameType.Headers, Flag.EndHeaders, 3, grpcRequestHeaders("/rbkv.v1.KV/Get")), c.frame(FrameType.Data, Flag.EndStream, 3, getBody("small")));
    const first = await c.until((f) => f.type === FrameType.Headers || f.type === FrameType.GoAway);
    expect(first.type).toBe(FrameType.Headers);
    expect(first.stream).toBe(3);
  });

  test("unknown paths are 404, and a request without :path is refused", async () => {
    const c = client();
    c.start();
    c.send(c.frame(FrameType.Headers, Flag.EndHeaders | Flag.EndStream, 1, encodeHeaders([[":method", "GET"], [":scheme", "http"], [":path", "/nope"]])));
    const res = await c.until((f) => f.type === FrameType.Headers);
    expect(new HpackDecoder().decode(res.payload)).toContainEqual([":status", "404"]);
    c.send(c.frame(FrameType.Headers, Flag.EndHeaders | Flag.EndStream, 3, encodeHeaders([[":method", "GET"], [":scheme", "http"]])));
    const rst = await c.until((f) => f.type === FrameType.RstStream);
    expect(rst.stream).toBe(3);
    expect(rst.payload.readUInt32BE(0)).toBe(ErrorCode.ProtocolError);
  });

  test("a header name with an upper-case letter or a space is a malformed request: its stream is reset, the connection goes on", async () => {
    const c = client();
    c.start();
    const base: [string, string][] = [[":method", "GET"], [":scheme", "http"], [":path", "/nope"]];
    c.send(c.frame(FrameType.Headers, Flag.EndHeaders | Flag.EndStream, 1, encodeHeaders([...base, ["X-Upper", "1"]])));
    const first = await c.until((f) => f.type === FrameType.RstStream);
    expect([first.stream, first.payload.readUInt32BE(0)]).toEqual([1, ErrorCode.ProtocolError]);
    c.send(c.frame(FrameType.Headers, Flag.EndHeaders | Flag.EndStream, 3, encodeHeaders([...base, ["x spaced", "1"]])));
    const second = await c.until((f) => f.type === FrameType.RstStream && f.stream === 3);
    expect(second.payload.readUInt32BE(0)).toBe(ErrorCode.ProtocolError);
    c.send(c.frame(FrameType.Headers, Flag.EndHeaders | Flag.EndStream, 5, encodeHeaders([...base, ["x-lower", "1"]])));
    const ok = await c.until((f) => f.type === FrameType.Headers && f.stream === 5);
    expect(new HpackDecoder().decode(ok.payload)).toContainEqual([":status", "404"]);
  });

  const connectionErrors: [string, (c: RawClient) => void, ErrorCode][] = [
    ["DATA on stream 0", (c) => c.send(c.frame(FrameType.Data, 0, 0, Buffer.from("x"))), ErrorCode.ProtocolError],
    ["a frame over 16 KiB", (c) => c.send(c.frame(FrameType.Data, 0, 1, Buffer.alloc(20_000))), ErrorCode.FrameSizeError],
    ["an undecodable header block", (c) => c.send(c.frame(FrameType.Headers, Flag.EndHeaders, 1, Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]))), ErrorCode.CompressionError],
    ["a header block interrupted by another frame", (c) => c.send(c.frame(FrameType.Headers, 0, 1, Buffer.from([0x82])), c.frame(FrameType.Ping, 0, 0, Buffer.alloc(8))), ErrorCode.ProtocolError],
    ["a PING of the wrong size", (c) => c.send(c.frame(FrameType.Ping, 0, 0, Buffer.alloc(3))), ErrorCode.FrameSizeError],
    ["a stream id that goes backwards", (c) => c.send(c.frame(FrameType.Headers, Flag.EndHeaders, 6, grpcRequestHeaders("/x"))), ErrorCode.ProtocolError],
    ["a window that overflows", (c) => c.send(windowUpdateFrame(0, 2 ** 31 - 1)), ErrorCode.FlowControlError],
  ];
  for (const [name, misbehave, code] of connectionErrors) {
    test(`${name}: GOAWAY with the right code, then the connection closes`, async () => {
      const c = client();
      c.start();
      misbehave(c);
      const goAway = await c.until((f) => f.type === FrameType.GoAway);
      expect(goAwayCode(goAway)).toBe(code);
      while (await c.next()) {
        // drain until the server closes
      }
      expect(c.closed).toBe(true);
    });
  }

  test("close() sends GOAWAY(NO_ERROR) and waits for streams in flight", async () => {
    const own = await startHarness();
    const c = new RawClient(own.port);
    clients.push(c);
    c.start();
    await c.until((f) => f.type === FrameType.Settings && (f.flags & Flag.Ack) !== 0);
    c.send(c.frame(FrameType.Headers, Flag.EndHeaders, 1, grpcRequestHeaders("/rbkv.v1.KV/Get")), c.frame(FrameType.Ping, 0, 0, Buffer.alloc(8)));
    await c.until((f) => f.type === FrameType.Ping); // the server has seen stream 1
    const closing = own.server.close();
    const goAway = await c.until((f) => f.type === FrameType.GoAway);
    expect(goAwayCode(goAway)).toBe(ErrorCode.NoError);
    expect(goAway.payload.readUInt32BE(0)).toBe(1);
    c.send(c.frame(FrameType.Data, Flag.EndStream, 1, getBody("nothing")));
    const answer = await c.until((f) => f.type === FrameType.Headers && f.stream === 1);
    expect(answer.stream).toBe(1);
    await closing;
  });
});

describe("HTTP/2 answers larger than every window, through real clients", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
    const value = new Uint8Array(1000).fill(1);
    for (let i = 0; i < 3000; i++) await h.kv.put(create(PutRequestSchema, { key: new TextEncoder().encode(`r/${String(i).padStart(5, "0")}`), value }));
    h.cluster.snapshotChunks = 200;
    h.cluster.snapshotChunkBytes = 64 << 10;
  });
  afterAll(() => h.server.close());

  for (const kind of ["grpc-js", "grpc-h2", "connect-h2"] as const) {
    test(`${kind}: a 3 MB Range (the lean path) and a 13 MB snapshot stream (connect-es) arrive whole`, async () => {
      const c = makeClient(kind, h.port);
      try {
        const res = await c.unary(KV.method.range, { key: new TextEncoder().encode("r/"), rangeEnd: new TextEncoder().encode("r0") });
        expect(res.kvs.length).toBe(3000);
        expect(res.kvs[2999].value.length).toBe(1000);
        let bytes = 0;
        let chunks = 0;
        for await (const chunk of c.stream(Cluster.method.snapshot, {})) {
          expect(chunk.blob.every((b) => b === chunks)).toBe(true);
          bytes += chunk.blob.length;
          chunks++;
        }
        expect(chunks).toBe(200);
        expect(bytes).toBe(200 * (64 << 10));
      } finally {
        c.close();
      }
    });
  }
});

describe("HTTP/2 requests the handlers cannot take", () => {
  test("a header value a Headers object refuses resets that stream only", async () => {
    const h = await startHarness();
    const c = new RawClient(h.port);
    try {
      c.start();
      const bad = encodeHeaders([[":method", "POST"], [":scheme", "http"], [":path", "/rbkv.v1.Cluster/Status"], ["content-type", "application/grpc"], ["x-bad", "a\nb"]]);
      c.send(c.frame(FrameType.Headers, Flag.EndHeaders | Flag.EndStream, 1, bad));
      const rst = await c.until((f) => f.type === FrameType.RstStream || f.type === FrameType.GoAway);
      expect(rst.type).toBe(FrameType.RstStream);
      c.send(c.frame(FrameType.Headers, Flag.EndHeaders, 3, grpcRequestHeaders("/rbkv.v1.KV/Get")), c.frame(FrameType.Data, Flag.EndStream, 3, getBody("k")));
      const answer = await c.until((f) => f.type === FrameType.Headers && f.stream === 3);
      expect(new HpackDecoder().decode(answer.payload)).toContainEqual([":status", "200"]);
    } finally {
      c.close();
      await h.server.close();
    }
  });
});

/** A bare H2Connection (no rbkv server behind it) on its own port, and a raw client to it. */
async function withBareConnection(options: H2ConnectionOptions, onStream: (s: H2Stream) => void, run: (c: RawClient) => Promise<void>): Promise<void> {
  const server = net.createServer((socket) => {
    new H2Connection(socket, onStream, () => {}, options);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const c = new RawClient((server.address() as net.AddressInfo).port);
  try {
    c.start();
    await run(c);
  } finally {
    c.close();
    server.close();
  }
}

describe("HTTP/2 bounds and the page", () => {
  test("half-sent requests past the connection's budget are reset, and their bytes released", async () => {
    const streams: H2Stream[] = [];
    await withBareConnection({ maxIncompleteRequestBytes: 40_000 }, (s) => streams.push(s), async (c) => {
      const piece = Buffer.alloc(15_000);
      for (const id of [1, 3, 5]) c.send(c.frame(FrameType.Headers, Flag.EndHeaders, id, grpcRequestHeaders("/x")), c.frame(FrameType.Data, 0, id, piece));
      const rst = await c.until((f) => f.type === FrameType.RstStream);
      expect(rst.stream).toBe(5);
      expect(rst.payload.readUInt32BE(0)).toBe(ErrorCode.EnhanceYourCalm);
      // Stream 1 finishing releases its bytes: another 15,000 fit again.
      c.send(c.frame(FrameType.Data, Flag.EndStream, 1, Buffer.alloc(0)));
      c.send(c.frame(FrameType.Headers, Flag.EndHeaders, 7, grpcRequestHeaders("/x")), c.frame(FrameType.Data, 0, 7, piece), c.frame(FrameType.Ping, 0, 0, Buffer.alloc(8)));
      const next = await c.until((f) => f.type === FrameType.RstStream || f.type === FrameType.Ping);
      expect(next.type).toBe(FrameType.Ping);
      expect(streams.map((s) => s.id)).toEqual([1, 3, 5, 7]);
    });
  });

  test("GET / over HTTP/2 answers the node page", async () => {
    const h = await startHarness();
    const c = new RawClient(h.port);
    try {
      c.start();
      c.send(c.frame(FrameType.Headers, Flag.EndHeaders | Flag.EndStream, 1, encodeHeaders([[":method", "GET"], [":scheme", "http"], [":path", "/"], [":authority", "x"]])));
      const headers = await c.until((f) => f.type === FrameType.Headers);
      expect(new HpackDecoder().decode(headers.payload)).toContainEqual([":status", "200"]);
      let html = "";
      await c.until((f) => {
        if (f.type === FrameType.Data) html += f.payload.toString();
        return f.type === FrameType.Data && (f.flags & Flag.EndStream) !== 0;
      });
      expect(html).toContain("rbkv node node-under-test");
    } finally {
      c.close();
      await h.server.close();
    }
  });
});

describe("HTTP/2 clients that provoke work: rapid reset, unread answers", () => {
  test("a client that sends PINGs but reads nothing is dropped once the unread answers pass the bound", async () => {
    await withBareConnection({ maxUnsentBytes: 256 << 10 }, () => {}, async (c) => {
      c.socket.pause();
      const pings = Buffer.concat(Array.from({ length: 10_000 }, () => c.frame(FrameType.Ping, 0, 0, Buffer.alloc(8))));
      // 170 KB of PING acknowledgements a round; the kernel buffers a few MB before the bound applies.
      for (let round = 0; round < 200 && !c.socket.destroyed; round++) {
        if (!c.socket.write(pings)) await new Promise((r) => setTimeout(r, 50));
        await new Promise((r) => setImmediate(r));
      }
      c.socket.resume();
      const deadline = Date.now() + 5000;
      while (!c.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(c.closed).toBe(true);
    });
  });

  test("a client that opens and resets streams faster than the budget loses the connection", async () => {
    const opened: number[] = [];
    await withBareConnection({ maxClientResets: 50, resetWindowMs: 60_000 }, (s) => opened.push(s.id), async (c) => {
      const frames: Buffer[] = [];
      for (let i = 0; i < 60; i++) {
        const id = 2 * i + 1;
        frames.push(c.frame(FrameType.Headers, Flag.EndHeaders, id, grpcRequestHeaders("/x")), c.frame(FrameType.RstStream, 0, id, Buffer.from([0, 0, 0, ErrorCode.Cancel])));
      }
      c.send(...frames);
      const goAway = await c.until((f) => f.type === FrameType.GoAway);
      expect(goAwayCode(goAway)).toBe(ErrorCode.EnhanceYourCalm);
      expect(opened.length).toBe(51);
    });
  });

  test("resets within the budget are fine", async () => {
    await withBareConnection({ maxClientResets: 50, resetWindowMs: 60_000 }, () => {}, async (c) => {
      for (let i = 0; i < 50; i++) {
        const id = 2 * i + 1;
        c.send(c.frame(FrameType.Headers, Flag.EndHeaders, id, grpcRequestHeaders("/x")), c.frame(FrameType.RstStream, 0, id, Buffer.from([0, 0, 0, ErrorCode.Cancel])));
      }
      c.send(c.frame(FrameType.Ping, 0, 0, Buffer.alloc(8)));
      const f = await c.until((x) => x.type === FrameType.Ping || x.type === FrameType.GoAway);
      expect(f.type).toBe(FrameType.Ping);
    });
  });
});

describe("HTTP/2 settings and limits a client can change", () => {
  test("streams past SETTINGS_MAX_CONCURRENT_STREAMS are refused", async () => {
    const opened: number[] = [];
    await withBareConnection({ maxConcurrentStreams: 2 }, (s) => opened.push(s.id), async (c) => {
      for (const id of [1, 3, 5]) c.send(c.frame(FrameType.Headers, Flag.EndHeaders, id, grpcRequestHeaders("/x")));
      const rst = await c.until((f) => f.type === FrameType.RstStream);
      expect(rst.stream).toBe(5);
      expect(rst.payload.readUInt32BE(0)).toBe(ErrorCode.RefusedStream);
      expect(opened).toEqual([1, 3]);
    });
  });

  test("a larger SETTINGS_INITIAL_WINDOW_SIZE mid-stream lets a stalled answer go on", async () => {
    await withBareConnection(
      {},
      (s) => {
        s.respond([[":status", "200"]]);
        s.writeNow(new Uint8Array(3000).fill(5));
        s.end(null);
      },
      async (c) => {
        c.send(settingsFrame([[Setting.InitialWindowSize, 1000]]));
        await c.until((f) => f.type === FrameType.Settings && (f.flags & Flag.Ack) !== 0);
        c.send(c.frame(FrameType.Headers, Flag.EndHeaders | Flag.EndStream, 1, grpcRequestHeaders("/x")));
        let received = 0;
        for (let f = await c.next(300); f; f = await c.next(300)) if (f.type === FrameType.Data) received += f.payload.length;
        expect(received).toBe(1000);
        c.send(settingsFrame([[Setting.InitialWindowSize, 5000]]));
        await c.until((f) => {
          if (f.type === FrameType.Data) received += f.payload.length;
          return f.type === FrameType.Data && (f.flags & Flag.EndStream) !== 0;
        });
        expect(received).toBe(3000);
      },
    );
  });

  test("DATA frames grow to the client's SETTINGS_MAX_FRAME_SIZE", async () => {
    await withBareConnection(
      {},
      (s) => {
        s.respond([[":status", "200"]]);
        s.writeNow(new Uint8Array(40_000));
        s.end(null);
      },
      async (c) => {
        c.send(settingsFrame([[Setting.MaxFrameSize, 32_768]]));
        await c.until((f) => f.type === FrameType.Settings && (f.flags & Flag.Ack) !== 0);
        c.send(c.frame(FrameType.Headers, Flag.EndHeaders | Flag.EndStream, 1, grpcRequestHeaders("/x")));
        const first = await c.until((f) => f.type === FrameType.Data);
        expect(first.payload.length).toBe(32_768);
      },
    );
  });

  test("after the client's GOAWAY the server ends the connection once its streams are done", async () => {
    let answer: H2Stream | null = null;
    await withBareConnection({}, (s) => (answer = s), async (c) => {
      c.send(c.frame(FrameType.Headers, Flag.EndHeaders | Flag.EndStream, 1, grpcRequestHeaders("/x")));
      c.send(goAwayFrame(0, ErrorCode.NoError), c.frame(FrameType.Ping, 0, 0, Buffer.alloc(8)));
      await c.until((f) => f.type === FrameType.Ping);
      expect(c.closed).toBe(false);
      answer!.respond([[":status", "200"]], true);
      while (await c.next()) {
        // the answer, then the end of the connection
      }
      expect(c.closed).toBe(true);
    });
  });
});
