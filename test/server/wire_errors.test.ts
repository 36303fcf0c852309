// Broken and oversized requests get a status, never a crash, and the server keeps serving.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { GetResponseSchema, KV, PutRequestSchema } from "../../src/gen/rbkv/v1/kv_pb";
import { grpcJsClient, pathOf } from "./clients";
import { startHarness, TEST_LIMITS, type Harness } from "./harness";

let h: Harness;
let base: string;
beforeAll(async () => {
  h = await startHarness();
  base = `http://127.0.0.1:${h.port}`;
});
afterAll(async () => {
  await h.server.close();
});

/** Sends raw bytes as a gRPC request body (the client adds the 5-byte frame) and returns the status. */
function grpcRaw(path: string, body: Uint8Array): Promise<grpc.ServiceError | null> {
  const client = new grpc.Client(`127.0.0.1:${h.port}`, grpc.credentials.createInsecure());
  return new Promise((resolve) => {
    client.makeUnaryRequest(path, (b: Uint8Array) => Buffer.from(b), (b: Buffer) => b, body, (err) => {
      client.close();
      resolve(err);
    });
  });
}

function frame(flags: number, payload: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(new ArrayBuffer(5 + payload.length));
  out[0] = flags;
  new DataView(out.buffer).setUint32(1, payload.length);
  out.set(payload, 5);
  return out;
}

async function stillServing(): Promise<void> {
  const c = grpcJsClient(h.port);
  try {
    const res = await c.unary(KV.method.get, { key: new TextEncoder().encode("alive") });
    expect(res.header?.memberId).toBe("n1");
  } finally {
    c.close();
  }
}

describe("malformed bodies", () => {
  test("gRPC: bytes that are not a protobuf message -> INVALID_ARGUMENT", async () => {
    const err = await grpcRaw(pathOf(KV.method.put), new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2]));
    expect(err?.code).toBe(grpc.status.INVALID_ARGUMENT);
    await stillServing();
  });

  test("Connect binary over HTTP/1.1: garbage protobuf -> 400 invalid_argument", async () => {
    const res = await fetch(base + pathOf(KV.method.get), {
      method: "POST",
      headers: { "content-type": "application/proto" },
      body: new Uint8Array([0x0a, 0x20, 1]),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe("invalid_argument");
  });

  test("gRPC-Web: garbage protobuf -> grpc-status 3 in the trailer frame", async () => {
    const res = await fetch(base + pathOf(KV.method.get), {
      method: "POST",
      headers: { "content-type": "application/grpc-web+proto" },
      body: frame(0, new Uint8Array([0x0a, 0x20, 1])),
    });
    const text = new TextDecoder().decode(new Uint8Array(await res.arrayBuffer()));
    expect(text).toMatch(/grpc-status: ?3\r?\n/);
  });

  test("Connect streaming (Watch): garbage protobuf -> invalid_argument in the end-stream frame", async () => {
    const res = await fetch(base + pathOf(KV.method.watch), {
      method: "POST",
      headers: { "content-type": "application/connect+proto" },
      body: frame(0, new Uint8Array([0x0a, 0x20, 1])),
    });
    const text = new TextDecoder().decode(new Uint8Array(await res.arrayBuffer()).subarray(5));
    expect((JSON.parse(text) as { error: { code: string } }).error.code).toBe("invalid_argument");
  });

  test("Connect JSON: not JSON -> invalid_argument", async () => {
    const res = await fetch(base + pathOf(KV.method.put), { method: "POST", headers: { "content-type": "application/json" }, body: "{not json" });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe("invalid_argument");
    await stillServing();
  });

  test("Connect JSON: wrong type, bad base64, bad duration -> invalid_argument", async () => {
    for (const body of ['{"key":12}', '{"key":"***"}', '{"ttl":"forever","key":"YQ=="}']) {
      const res = await fetch(base + pathOf(KV.method.put), { method: "POST", headers: { "content-type": "application/json" }, body });
      expect(((await res.json()) as { code: string }).code).toBe("invalid_argument");
    }
    expect(h.kv.log.calls.filter((c) => c === "put").length).toBe(0);
  });

  test("Connect JSON: an unknown field or enum name -> invalid_argument (strict JSON: never read as a default)", async () => {
    const getsBefore = h.kv.log.calls.filter((c) => c === "get").length;
    for (const body of ['{"key":"YQ==","fromTheFuture":1}', '{"key":"YQ==","consistency":"CONSISTENCY_BOGUS"}']) {
      const res = await fetch(base + pathOf(KV.method.get), { method: "POST", headers: { "content-type": "application/json" }, body });
      expect(((await res.json()) as { code: string }).code).toBe("invalid_argument");
    }
    expect(h.kv.log.calls.filter((c) => c === "get").length).toBe(getsBefore);
  });

  test("gRPC: ttl with nanos of the wrong sign -> INVALID_ARGUMENT from validation", async () => {
    const body = toBinary(PutRequestSchema, create(PutRequestSchema, { key: new Uint8Array([1]), ttl: { seconds: 1n, nanos: -5 } }));
    const err = await grpcRaw(pathOf(KV.method.put), body);
    expect(err?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err?.details).toContain("ttl is not a valid duration");
  });
});

describe("oversized requests", () => {
  const huge = () => create(PutRequestSchema, { key: new Uint8Array([1]), value: new Uint8Array(TEST_LIMITS.maxRequestBytes + 100) });

  test("gRPC: a request over --max-request-bytes is INVALID_ARGUMENT naming the limit", async () => {
    const err = await grpcRaw(pathOf(KV.method.put), toBinary(PutRequestSchema, huge()));
    expect(err?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err?.details).toContain(`the limit is ${TEST_LIMITS.maxRequestBytes} (--max-request-bytes)`);
    expect(h.kv.log.calls.filter((c) => c === "put").length).toBe(0);
    await stillServing();
  });

  test("Connect binary over HTTP/1.1: the same, as an error code", async () => {
    const res = await fetch(base + pathOf(KV.method.put), {
      method: "POST",
      headers: { "content-type": "application/proto" },
      body: new Uint8Array(toBinary(PutRequestSchema, huge())),
    });
    const error = (await res.json()) as { code: string; message: string };
    expect(error.code).toBe("invalid_argument");
    expect(error.message).toContain(`the limit is ${TEST_LIMITS.maxRequestBytes} (--max-request-bytes)`);
    await stillServing();
  });

  test("Connect JSON over HTTP/1.1: the same", async () => {
    const body = JSON.stringify({ key: "AQ==", value: Buffer.alloc(TEST_LIMITS.maxRequestBytes).toString("base64") });
    const res = await fetch(base + pathOf(KV.method.put), { method: "POST", headers: { "content-type": "application/json" }, body });
    const error = (await res.json()) as { code: string; message: string };
    expect(error.code).toBe("invalid_argument");
    expect(error.message).toContain("(--max-request-bytes)");
    await stillServing();
  });
});

describe("other wire checks", () => {
  test("Connect binary unary round trip (what a lean client would send)", async () => {
    const res = await fetch(base + pathOf(KV.method.get), {
      method: "POST",
      headers: { "content-type": "application/proto" },
      body: new Uint8Array([0x0a, 0x01, 0x61]),
    });
    expect(res.status).toBe(200);
    expect(fromBinary(GetResponseSchema, new Uint8Array(await res.arrayBuffer())).header?.memberId).toBe("n1");
  });

  test("unknown method -> UNIMPLEMENTED", async () => {
    const err = await grpcRaw("/rbkv.v1.KV/Nope", new Uint8Array());
    expect(err?.code).toBe(grpc.status.UNIMPLEMENTED);
  });

  test("grpc-js sees the error message verbatim (no %3B)", async () => {
    const err = await grpcRaw(pathOf(KV.method.get), new Uint8Array([0x0a, 0x00]));
    expect(err?.code).toBe(Code.InvalidArgument as number);
    expect(err?.details).toBe("key is empty; give a key of 1 to 64 bytes");
  });
});
