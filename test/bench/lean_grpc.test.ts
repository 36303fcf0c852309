// The benchmark's own gRPC client speaks HTTP/2 on a raw socket; these check it against two
// servers it did not come with knowledge of: rbkv's (over the fake backend) and Bun's node:http2
// server, whose HPACK encoder uses the dynamic table (so a decoder out of step would show).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { GetRequestSchema, GetResponseSchema, PutRequestSchema } from "../../src/gen/rbkv/v1/kv_pb";
import { DEFAULT_LIMITS } from "../../src/node/api";
import { GrpcError, LeanGrpcClient } from "../../bench/lib/lean_grpc";
import { startHarness, type Harness } from "../server/harness";

const enc = new TextEncoder();

describe("against rbkv's server", () => {
  let h: Harness;
  let client: LeanGrpcClient;
  beforeAll(async () => {
    h = await startHarness({ limits: { ...DEFAULT_LIMITS } });
    client = new LeanGrpcClient(`127.0.0.1:${h.port}`);
  });
  afterAll(async () => {
    client.close();
    await h.server.close();
  });

  test("a put, then a get that sees it", async () => {
    await client.unary("/rbkv.v1.KV/Put", toBinary(PutRequestSchema, create(PutRequestSchema, { key: enc.encode("a"), value: enc.encode("one") })));
    const got = fromBinary(GetResponseSchema, await client.unary("/rbkv.v1.KV/Get", toBinary(GetRequestSchema, create(GetRequestSchema, { key: enc.encode("a") }))));
    expect(new TextDecoder().decode(got.kv?.value)).toBe("one");
  });

  test("a request far over the connection's first window and frame size waits for WINDOW_UPDATE and arrives whole", async () => {
    // A new connection: its first call starts with the 65,535-byte windows of RFC 9113 and must
    // wait for the server's SETTINGS and WINDOW_UPDATE to send the rest.
    const fresh = new LeanGrpcClient(`127.0.0.1:${h.port}`);
    const value = new Uint8Array(700 * 1024).map((_, i) => i % 251);
    await fresh.unary("/rbkv.v1.KV/Put", toBinary(PutRequestSchema, create(PutRequestSchema, { key: enc.encode("big"), value })), 5_000);
    fresh.close();
    const got = fromBinary(GetResponseSchema, await client.unary("/rbkv.v1.KV/Get", toBinary(GetRequestSchema, create(GetRequestSchema, { key: enc.encode("big") }))));
    expect(got.kv?.value).toEqual(value);
  });

  test("a refused request fails with the server's status and message", async () => {
    const err = await client.unary("/rbkv.v1.KV/Put", toBinary(PutRequestSchema, create(PutRequestSchema, { key: new Uint8Array(0) }))).catch((e) => e);
    expect(err).toBeInstanceOf(GrpcError);
    expect((err as GrpcError).status).toBe(3);
    expect((err as GrpcError).message).toContain("key");
  });

  test("many calls at once on one connection all complete", async () => {
    const body = toBinary(GetRequestSchema, create(GetRequestSchema, { key: enc.encode("a") }));
    const answers = await Promise.all(Array.from({ length: 500 }, () => client.unary("/rbkv.v1.KV/Get", body)));
    expect(answers.map((a) => fromBinary(GetResponseSchema, a).kv?.value.length)).toEqual(Array(500).fill(3));
  });
});

describe("against Bun's node:http2 server", () => {
  let server: http2.Http2Server;
  let client: LeanGrpcClient;
  /** A small receive window, so that a 1 MiB answer needs many WINDOW_UPDATEs from the client. */
  let narrow: LeanGrpcClient;
  const resets: string[] = [];
  /** The server side of the connection each call (by path) came in on. */
  const sessionOf = new Map<string, http2.Http2Session>();
  const grpcFrame = (bytes: Uint8Array) => {
    const out = Buffer.alloc(5 + bytes.length);
    out.writeUInt32BE(bytes.length, 1);
    out.set(bytes, 5);
    return out;
  };

  beforeAll(async () => {
    server = http2.createServer();
    server.on("stream", (stream: http2.ServerHttp2Stream, headers) => {
      const path = String(headers[":path"]);
      sessionOf.set(path, stream.session!);
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("error", () => {});
      stream.on("close", () => {
        if (stream.rstCode) resets.push(path);
      });
      stream.on("end", () => {
        const body = Buffer.concat(chunks).subarray(5);
        if (path.startsWith("/echo")) {
          stream.respond({ ":status": 200, "content-type": "application/grpc", "x-call": String(body.length) }, { waitForTrailers: true });
          stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0", "grpc-message": "" }));
          stream.end(grpcFrame(body));
        } else if (path === "/big") {
          stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
          stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
          stream.end(grpcFrame(new Uint8Array(1 << 20).fill(7)));
        } else if (path === "/three") {
          stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
          stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
          stream.write(grpcFrame(enc.encode("one")));
          stream.write(grpcFrame(enc.encode("two")));
          stream.end(grpcFrame(enc.encode("three")));
        } else if (path === "/fail") {
          stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": "9", "grpc-message": "not%20now" }, { endStream: true });
        } else if (path.startsWith("/slow")) {
          setTimeout(() => {
            stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
            stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
            stream.end(grpcFrame(enc.encode("late")));
          }, 300);
        } else if (path === "/reset") {
          stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
        }
        // "/silent" never answers.
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    client = new LeanGrpcClient(`127.0.0.1:${(server.address() as AddressInfo).port}`);
    narrow = new LeanGrpcClient(`127.0.0.1:${(server.address() as AddressInfo).port}`, 32 * 1024);
  });
  afterAll(() => {
    client.close();
    narrow.close();
    server.close();
  });

  test("answers come back right call after call (the server's header table keeps changing)", async () => {
    for (let i = 0; i < 50; i++) {
      const body = enc.encode(`message ${i} `.repeat(i + 1));
      expect(await client.unary("/echo", body)).toEqual(body);
    }
  });

  test("a response many times the receive window is taken whole (the client widens its windows as it reads)", async () => {
    const answer = await narrow.unary("/big", new Uint8Array(0), 5_000);
    expect(answer.length).toBe(1 << 20);
    expect(answer[answer.length - 1]).toBe(7);
  });

  test("a stream delivers each message, then ends", async () => {
    const got: string[] = [];
    const s = client.stream("/three", new Uint8Array(0), (m) => got.push(new TextDecoder().decode(m)));
    await s.done;
    expect(got).toEqual(["one", "two", "three"]);
  });

  test("a trailers-only answer and a reset stream fail with a status", async () => {
    const failed = (await client.unary("/fail", new Uint8Array(0)).catch((e) => e)) as GrpcError;
    expect(failed.status).toBe(9);
    expect(failed.message).toContain("not now");
    const reset = (await client.unary("/reset", new Uint8Array(0)).catch((e) => e)) as GrpcError;
    expect(reset).toBeInstanceOf(GrpcError);
    expect(reset.status).toBe(14);
  });

  test("a call past its deadline fails with DEADLINE_EXCEEDED and its stream is reset", async () => {
    const started = Date.now();
    const err = (await client.unary("/silent", new Uint8Array(0), 200).catch((e) => e)) as GrpcError;
    expect(err.status).toBe(4);
    expect(Date.now() - started).toBeLessThan(2_000);
    for (let i = 0; i < 50 && !resets.includes("/silent"); i++) await Bun.sleep(20);
    expect(resets).toContain("/silent");
  });

  test("a PING from the server is answered with its payload", async () => {
    const own = new LeanGrpcClient(`127.0.0.1:${(server.address() as AddressInfo).port}`);
    await own.unary("/echo/ping", enc.encode("x"));
    const payload = Buffer.from("rbkv-png");
    const echoed = await new Promise<Buffer>((resolve, reject) =>
      sessionOf.get("/echo/ping")!.ping(payload, (err, _ms, got) => (err ? reject(err) : resolve(got))),
    );
    expect(echoed).toEqual(payload);
    own.close();
  });

  test("after a GOAWAY the call in flight still completes and new calls go to a new connection", async () => {
    const own = new LeanGrpcClient(`127.0.0.1:${(server.address() as AddressInfo).port}`);
    const inFlight = own.unary("/slow/1", new Uint8Array(0), 5_000);
    for (let i = 0; i < 50 && !sessionOf.has("/slow/1"); i++) await Bun.sleep(10);
    const first = sessionOf.get("/slow/1")!;
    first.goaway(http2.constants.NGHTTP2_NO_ERROR, 1); // stream 1, the call in flight, is still served
    await Bun.sleep(50);
    expect(new TextDecoder().decode(await own.unary("/slow/2", new Uint8Array(0), 5_000))).toBe("late");
    expect(new TextDecoder().decode(await inFlight)).toBe("late");
    expect(sessionOf.get("/slow/2")).not.toBe(first);
    own.close();
  });
});
