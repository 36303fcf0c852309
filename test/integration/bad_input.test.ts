// Bad input against a real cluster: each gets its status code, and afterwards the store is intact
// (a key written first still reads back the same on every node). The cluster keeps only 10
// revisions of watch history, so a watch from revision 1 is compacted.
import { beforeAll, describe, expect, test } from "bun:test";
import { connect as h2connect } from "node:http2";
import * as grpc from "@grpc/grpc-js";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { CompareResult, CompareTarget, Consistency, KV, TxnRequestSchema, WatchRequestSchema, type WatchResponse } from "../../src/gen/rbkv/v1/kv_pb";
import type { LocalNode } from "../../src/devtools/local_cluster";
import { pathOf } from "../server/clients";
import { type ClientKind, dec, enc, sharedCluster, waitFor } from "./support/cluster";

const shared = sharedCluster(3, ["--history-revisions=10"]);
const it = shared.it;
let node: LocalNode; // a follower: bad writes are refused before they are forwarded
beforeAll(async () => {
  node = shared.tc.nodes[1];
  await shared.tc.client(shared.tc.nodes[0], "grpc-js").unary(KV.method.put, { key: enc("known"), value: enc("intact") });
}, 60_000);

const KINDS: ClientKind[] = ["grpc-js", "connect-json-fetch", "grpc-web-fetch"];

async function codeOf(p: Promise<unknown>): Promise<{ code: Code; message: string } | null> {
  try {
    await p;
    return null;
  } catch (err) {
    const ce = ConnectError.from(err);
    return { code: ce.code, message: ce.rawMessage };
  }
}

async function expectCode(p: Promise<unknown>, codes: Code[], messagePart?: string): Promise<void> {
  const got = await codeOf(p);
  expect(got === null ? "succeeded" : Code[got.code]).toBeOneOf(codes.map((c) => Code[c]));
  if (messagePart) expect(got?.message).toContain(messagePart);
}

/** Raw bytes as a gRPC request body through grpc-js (which adds the 5-byte frame). */
function grpcRaw(n: LocalNode, path: string, body: Uint8Array): Promise<grpc.ServiceError | null> {
  const client = new grpc.Client(n.grpcAddr, grpc.credentials.createInsecure());
  return new Promise((resolve) => {
    client.makeUnaryRequest(path, (b: Uint8Array) => Buffer.from(b), (b: Buffer) => b, body, (err) => {
      client.close();
      resolve(err);
    });
  });
}

async function connectJsonRaw(n: LocalNode, path: string, body: string | Uint8Array<ArrayBuffer>, contentType = "application/json"): Promise<{ status: number; code: string }> {
  const res = await fetch(`${n.url}${path}`, { method: "POST", headers: { "content-type": contentType }, body });
  const json = (await res.json()) as { code?: string };
  return { status: res.status, code: json.code ?? "" };
}

for (const kind of KINDS) {
  describe(`through ${kind}`, () => {
    const c = () => shared.tc.client(node, kind);

    it("empty key -> INVALID_ARGUMENT (Get, Put, Delete)", async () => {
      await expectCode(c().unary(KV.method.get, { key: new Uint8Array(0) }), [Code.InvalidArgument], "key is empty");
      await expectCode(c().unary(KV.method.put, { key: new Uint8Array(0), value: enc("x") }), [Code.InvalidArgument], "key is empty");
      await expectCode(c().unary(KV.method.delete, { key: new Uint8Array(0) }), [Code.InvalidArgument]);
    });

    it("key over 4096 bytes -> INVALID_ARGUMENT naming the limit", async () => {
      await expectCode(c().unary(KV.method.put, { key: new Uint8Array(4097).fill(97), value: enc("x") }), [Code.InvalidArgument], "4096");
      await expectCode(c().unary(KV.method.get, { key: new Uint8Array(5000).fill(97) }), [Code.InvalidArgument], "4096");
    });

    it("value over 1 MiB -> INVALID_ARGUMENT naming the limit", async () => {
      await expectCode(c().unary(KV.method.put, { key: enc("big"), value: new Uint8Array((1 << 20) + 1) }), [Code.InvalidArgument], String(1 << 20));
    });

    it("request over 2 MiB (three values under 1 MiB each in one Txn) -> INVALID_ARGUMENT naming the limit", async () => {
      const put = (i: number) => ({ request: { case: "put" as const, value: { key: enc(`huge/${i}`), value: new Uint8Array(900 * 1024) } } });
      await expectCode(c().unary(KV.method.txn, { success: [put(1), put(2), put(3)] }), [Code.InvalidArgument], "--max-request-bytes");
    });

    it("unknown enum values -> INVALID_ARGUMENT", async () => {
      await expectCode(c().unary(KV.method.get, { key: enc("known"), consistency: 7 as Consistency }), [Code.InvalidArgument], "consistency");
      const cmp = { key: enc("known"), target: 42 as CompareTarget, result: CompareResult.EQUAL, targetUnion: { case: "version" as const, value: 1n } };
      await expectCode(c().unary(KV.method.txn, { compare: [cmp] }), [Code.InvalidArgument], "target");
      const cmp2 = { key: enc("known"), target: CompareTarget.VERSION, result: 99 as CompareResult, targetUnion: { case: "version" as const, value: 1n } };
      await expectCode(c().unary(KV.method.txn, { compare: [cmp2] }), [Code.InvalidArgument], "result");
    });

    it("a Txn with 200 ops -> INVALID_ARGUMENT naming the limit of 128", async () => {
      const ops = Array.from({ length: 200 }, (_, i) => ({ request: { case: "put" as const, value: { key: enc(`txn/${i}`), value: enc("x") } } }));
      await expectCode(c().unary(KV.method.txn, { success: ops }), [Code.InvalidArgument], "128");
      // Nothing of it was applied.
      const r = await c().unary(KV.method.range, { key: enc("txn/"), rangeEnd: enc("txn0") });
      expect(r.kvs.length).toBe(0);
    });

    it("a watch with a negative start revision -> INVALID_ARGUMENT", async () => {
      const got = await codeOf(
        (async () => {
          for await (const _ of c().stream(KV.method.watch, { key: enc("known"), startRevision: -5n })) {
            // no message expected
          }
        })(),
      );
      expect(got === null ? "succeeded" : Code[got.code]).toBe("InvalidArgument");
    });
  });
}

describe("wire-level garbage", () => {
  it("gRPC: bytes that are not a protobuf message -> INVALID_ARGUMENT", async () => {
    const err = await grpcRaw(node, pathOf(KV.method.put), new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2]));
    expect(err?.code).toBe(grpc.status.INVALID_ARGUMENT);
  });

  it("Connect binary: a truncated protobuf body -> 400 invalid_argument", async () => {
    const r = await connectJsonRaw(node, pathOf(KV.method.put), new Uint8Array([0x0a, 0x20, 1]), "application/proto");
    expect(r).toEqual({ status: 400, code: "invalid_argument" });
  });

  it("Connect JSON: not JSON, wrong types, bad base64, bad duration, unknown enum numbers -> invalid_argument", async () => {
    const cases: [string, string][] = [
      [pathOf(KV.method.put), "{not json"],
      [pathOf(KV.method.put), '{"key":12}'],
      [pathOf(KV.method.put), '{"key":"***"}'],
      [pathOf(KV.method.put), '{"key":"a25vd24=","value":"eA==","ttl":"forever"}'],
      [pathOf(KV.method.get), '{"key":"a25vd24=","consistency":7}'],
      [pathOf(KV.method.txn), '{"compare":[{"key":"a25vd24=","result":"COMPARE_RESULT_EQUAL","target":42,"version":"1"}]}'],
    ];
    for (const [path, body] of cases) {
      const r = await connectJsonRaw(node, path, body);
      expect({ body, ...r }).toEqual({ body, status: 400, code: "invalid_argument" });
    }
  });

  // KNOWN ISSUE (src/server): the server parses JSON with ignoreUnknownFields, which in protobuf-es
  // also drops enum names it does not know, so "CONSISTENCY_BOGUS" reads as UNSPECIFIED
  // (linearizable) and the call succeeds, while the number 7 is refused. Marked failing until the
  // server rejects unknown enum names; then flip it to a plain test.
  test("Connect JSON: an unknown enum name -> invalid_argument", async () => {
    const r = await connectJsonRaw(node, pathOf(KV.method.get), '{"key":"a25vd24=","consistency":"CONSISTENCY_BOGUS"}');
    expect(r).toEqual({ status: 400, code: "invalid_argument" });
  });

  it("gRPC: a request over 2 MiB sent raw -> INVALID_ARGUMENT, nothing written", async () => {
    const body = toBinary(TxnRequestSchema, create(TxnRequestSchema, {
      success: [1, 2, 3].map((i) => ({ request: { case: "put" as const, value: { key: enc(`raw-huge/${i}`), value: new Uint8Array(800 * 1024) } } })),
    }));
    const err = await grpcRaw(node, pathOf(KV.method.txn), body);
    expect(err?.code).toBe(grpc.status.INVALID_ARGUMENT);
    const r = await shared.tc.client(node, "grpc-js").unary(KV.method.range, { key: enc("raw-huge/"), rangeEnd: enc("raw-huge0") });
    expect(r.kvs.length).toBe(0);
  });
});

describe("watch edge cases", () => {
  it("a watch on a compacted revision -> compact_revision set, then OUT_OF_RANGE", async () => {
    const w = shared.tc.client(shared.tc.nodes[0], "grpc-js");
    let last = 0n;
    for (let i = 0; i < 50; i++) last = (await w.unary(KV.method.put, { key: enc("hist/k"), value: enc(String(i)) })).header!.revision;
    for (const kind of KINDS) {
      const got: WatchResponse[] = [];
      // Wait until this node has applied the writes, so its history really starts past 1.
      await waitFor("the node to apply the writes", async () => {
        const r = await shared.tc.client(node, kind).unary(KV.method.get, { key: enc("hist/k"), consistency: Consistency.SERIALIZABLE });
        return r.kv?.modRevision === last ? true : undefined;
      });
      const err = await codeOf(
        (async () => {
          for await (const res of shared.tc.client(node, kind).stream(KV.method.watch, { key: enc("hist/"), rangeEnd: enc("hist0"), startRevision: 1n })) got.push(res);
        })(),
      );
      expect({ kind, code: err === null ? "ended" : Code[err.code] }).toEqual({ kind, code: "OutOfRange" });
      expect(got.length).toBe(1);
      expect(got[0].events.length).toBe(0);
      expect(got[0].compactRevision).toBeGreaterThan(1n);
      expect(got[0].compactRevision).toBeLessThanOrEqual(last);
      // And from the compact revision on, the watch works.
      const ac = new AbortController();
      let firstRev = 0n;
      const resumed = await codeOf(
        (async () => {
          for await (const res of shared.tc.client(node, kind).stream(KV.method.watch, { key: enc("hist/"), rangeEnd: enc("hist0"), startRevision: got[0].compactRevision }, ac.signal)) {
            if (res.events.length > 0) {
              firstRev = res.events[0].kv!.modRevision;
              ac.abort();
            }
          }
        })(),
      );
      expect(ac.signal.aborted || resumed === null).toBe(true);
      expect(firstRev).toBe(got[0].compactRevision);
    }
  });

  it("clients that disconnect mid watch stream (cancel, and a dropped connection) leave the node fine", async () => {
    const w = shared.tc.client(shared.tc.nodes[0], "grpc-js");
    const start = (await w.unary(KV.method.put, { key: enc("drop/k"), value: enc("0") })).header!.revision;
    // 1. A raw HTTP/2 gRPC watch whose whole connection is destroyed after the first message.
    const session = h2connect(node.url);
    const req = create(WatchRequestSchema, { key: enc("drop/"), rangeEnd: enc("drop0"), startRevision: start });
    const payload = toBinary(WatchRequestSchema, req);
    const frame = new Uint8Array(5 + payload.length);
    new DataView(frame.buffer).setUint32(1, payload.length);
    frame.set(payload, 5);
    const stream = session.request({ ":method": "POST", ":path": pathOf(KV.method.watch), "content-type": "application/grpc", te: "trailers" });
    stream.end(frame);
    await new Promise<void>((resolve, reject) => {
      stream.once("data", () => resolve());
      stream.once("error", reject);
    });
    session.destroy();
    // 2. Many grpc-js watches cancelled mid-stream while writes flow.
    for (let i = 0; i < 10; i++) {
      const ac = new AbortController();
      const s = shared.tc.client(node, "grpc-js").stream(KV.method.watch, { key: enc("drop/"), rangeEnd: enc("drop0"), startRevision: start }, ac.signal);
      await codeOf(
        (async () => {
          for await (const _ of s) ac.abort();
        })(),
      );
    }
    // 3. A Connect streaming fetch aborted mid-body.
    const ac = new AbortController();
    const res = await fetch(`${node.url}${pathOf(KV.method.watch)}`, {
      method: "POST",
      headers: { "content-type": "application/connect+json" },
      body: (() => {
        const json = enc(JSON.stringify({ key: btoa("drop/"), rangeEnd: btoa("drop0"), startRevision: String(start) }));
        const f = new Uint8Array(5 + json.length);
        new DataView(f.buffer).setUint32(1, json.length);
        f.set(json, 5);
        return f;
      })(),
      signal: ac.signal,
    });
    const reader = res.body!.getReader();
    await reader.read();
    ac.abort();
    await reader.read().catch(() => null);
    // The node keeps applying and serving, and a fresh watch sees new writes live.
    for (let i = 1; i <= 20; i++) await w.unary(KV.method.put, { key: enc("drop/k"), value: enc(String(i)) });
    const got = await shared.tc.client(node, "grpc-js").unary(KV.method.get, { key: enc("drop/k") });
    expect(dec(got.kv?.value)).toBe("20");
    const ac2 = new AbortController();
    const live: string[] = [];
    const watching = codeOf(
      (async () => {
        for await (const r of shared.tc.client(node, "grpc-js").stream(KV.method.watch, { key: enc("drop/"), rangeEnd: enc("drop0") }, ac2.signal)) {
          for (const e of r.events) live.push(dec(e.kv?.value));
          if (live.includes("21")) ac2.abort();
        }
      })(),
    );
    await waitFor("the live watch to be listening", async () => {
      await w.unary(KV.method.put, { key: enc("drop/k"), value: enc("21") });
      return live.includes("21") ? true : undefined;
    }, 20_000, 300);
    ac2.abort();
    await watching;
  });
});

test("after all of it, the known key reads back the same value on every node", async () => {
  for (const n of shared.tc.nodes) {
    for (const kind of KINDS) {
      const got = await shared.tc.client(n, kind).unary(KV.method.get, { key: enc("known") });
      expect(dec(got.kv?.value)).toBe("intact");
    }
    const health = await fetch(`${n.url}/`);
    expect(health.status).toBe(200);
  }
  for (const n of shared.tc.nodes) expect(n.running).toBe(true);
});
