// The parts of the port that are not rbkv RPCs: health, the HTML page, CORS, protocol sniffing
// and shutdown.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as net from "node:net";
import { Code, ConnectError } from "@connectrpc/connect";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../../src/gen/grpc/health/v1/health_pb";
import { KV } from "../../src/gen/rbkv/v1/kv_pb";
import { sniffProtocol } from "../../src/server/one_port";
import { encodeGrpcMessage } from "../../src/server/status_fixes";
import { grpcJsClient, makeClient } from "./clients";
import { startHarness, type Harness } from "./harness";

let h: Harness;
let base: string;
beforeAll(async () => {
  h = await startHarness();
  base = `http://127.0.0.1:${h.port}`;
});
afterAll(async () => {
  await h.server.close();
});

describe("grpc.health.v1.Health", () => {
  test("Check via grpc-js follows the health callback", async () => {
    const c = grpcJsClient(h.port);
    try {
      expect((await c.unary(Health.method.check, { service: "" })).status).toBe(ServingStatus.SERVING);
      expect((await c.unary(Health.method.check, { service: "rbkv.v1.KV" })).status).toBe(ServingStatus.SERVING);
      h.setHealth("NOT_SERVING");
      expect((await c.unary(Health.method.check, {})).status).toBe(ServingStatus.NOT_SERVING);
      const err = await c.unary(Health.method.check, { service: "no.such.Service" }).catch((e: unknown) => e);
      expect((err as ConnectError).code).toBe(Code.NotFound);
    } finally {
      h.setHealth("SERVING");
      c.close();
    }
  });

  test("Watch sends the current status first", async () => {
    const c = makeClient("grpc-h2", h.port);
    const ac = new AbortController();
    try {
      for await (const res of c.stream(Health.method.watch, {}, ac.signal)) {
        expect(res.status).toBe(ServingStatus.SERVING);
        ac.abort();
      }
    } catch {
      // the abort ends the stream with an error on this client
    }
  });
});

describe("GET /", () => {
  test("returns an HTML page naming the node, its addresses and version", async () => {
    const res = await fetch(base + "/");
    expect(res.headers.get("content-type")).toContain("text/html");
    const html = await res.text();
    for (const s of ["node-under-test", "127.0.0.1:1", "127.0.0.1:2", "9.9.9"]) expect(html).toContain(s);
  });

  test("unknown paths are 404", async () => {
    expect((await fetch(base + "/nope")).status).toBe(404);
  });

  test("a custom page function replaces the default", async () => {
    const custom = await startHarness({ page: (req) => new Response(`custom ${new URL(req.url).pathname}`, { status: 200 }) });
    try {
      expect(await (await fetch(`http://127.0.0.1:${custom.port}/`)).text()).toBe("custom /");
    } finally {
      await custom.server.close();
    }
  });
});

describe("CORS", () => {
  test("preflight from a browser is answered with Connect's allowed methods and headers", async () => {
    const res = await fetch(base + "/rbkv.v1.KV/Get", {
      method: "OPTIONS",
      headers: { origin: "http://app.example", "access-control-request-method": "POST", "access-control-request-headers": "content-type,x-grpc-web" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("http://app.example");
    expect(res.headers.get("access-control-allow-methods")).toContain("POST");
    expect(res.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("x-grpc-web");
  });

  test("actual responses expose the gRPC-Web status headers", async () => {
    const res = await fetch(base + "/rbkv.v1.KV/Get", {
      method: "POST",
      headers: { origin: "http://app.example", "content-type": "application/json" },
      body: '{"key":"YQ=="}',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe("http://app.example");
    expect(res.headers.get("access-control-expose-headers")?.toLowerCase()).toContain("grpc-status");
  });

  test("a restricted origin list refuses other origins", async () => {
    const strict = await startHarness({ corsOrigins: ["http://ok.example"] });
    try {
      const res = await fetch(`http://127.0.0.1:${strict.port}/rbkv.v1.KV/Get`, {
        method: "OPTIONS",
        headers: { origin: "http://evil.example", "access-control-request-method": "POST" },
      });
      expect(res.status).toBe(403);
      expect(res.headers.get("access-control-allow-origin")).toBeNull();
    } finally {
      await strict.server.close();
    }
  });
});

describe("one port, two protocols", () => {
  test("sniffProtocol decides from the first bytes", () => {
    const preface = new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    expect(sniffProtocol(preface.subarray(0, 3))).toBe("need-more");
    expect(sniffProtocol(preface)).toBe("http2");
    expect(sniffProtocol(new TextEncoder().encode("POST /rbkv"))).toBe("http1");
    expect(sniffProtocol(new TextEncoder().encode("P"))).toBe("need-more");
    expect(sniffProtocol(new TextEncoder().encode("PO"))).toBe("http1");
  });

  function rawExchange(parts: string[], until: (got: Buffer) => boolean): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const sock = net.connect(h.port, "127.0.0.1");
      let got = Buffer.alloc(0);
      sock.on("data", (d) => {
        got = Buffer.concat([got, Buffer.from(d)]);
        if (until(got)) {
          sock.destroy();
          resolve(got);
        }
      });
      sock.on("error", reject);
      sock.on("connect", async () => {
        for (const p of parts) {
          sock.write(p);
          await new Promise((r) => setTimeout(r, 20));
        }
      });
    });
  }

  test("an HTTP/2 preface split over several packets still reaches the HTTP/2 server", async () => {
    const emptySettings = "\x00\x00\x00\x04\x00\x00\x00\x00\x00";
    const got = await rawExchange(["PRI * HTT", "P/2.0\r\n\r\nS", "M\r\n\r\n" + emptySettings], (b) => b.length >= 9);
    expect(got[3]).toBe(0x04); // the server's first frame is SETTINGS
  });

  test("an HTTP/1.1 request line split over packets reaches the HTTP/1.1 server", async () => {
    const got = await rawExchange(["G", "ET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"], (b) => b.includes("</html>"));
    expect(got.toString()).toStartWith("HTTP/1.1 200");
  });

  test("HTTP/1.1 keep-alive serves several requests on one connection", async () => {
    const req = "POST /rbkv.v1.KV/Get HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 14\r\n\r\n{\"key\":\"YQ==\"}";
    const got = await rawExchange([req, req, req], (b) => b.toString().split("HTTP/1.1 200").length === 4);
    expect(got.toString().split("memberId").length).toBe(4);
  });
});

describe("streams and shutdown", () => {
  test("a watch cancelled by a grpc-js client aborts the handler's signal and closes the source", async () => {
    const c = grpcJsClient(h.port);
    const ac = new AbortController();
    const aborted = h.kv.nextStreamAbort();
    let n = 0;
    try {
      for await (const _ of c.stream(KV.method.watch, { key: new Uint8Array([1]) }, ac.signal)) if (++n === 2) ac.abort();
    } catch {
      // cancelled
    }
    await aborted;
    await Bun.sleep(20);
    expect(h.kv.log.streamsOpen).toBe(0);
    // A client going away is not a server error.
    expect(h.logged).toEqual([]);
    c.close();
  });

  test("close() ends open watches and the port stops accepting", async () => {
    const s = await startHarness();
    const c = makeClient("grpc-h2", s.port);
    const ended = (async () => {
      try {
        for await (const _ of c.stream(KV.method.watch, { key: new Uint8Array([1]) })) {
          // three events, then the stream idles until shutdown
        }
      } catch {
        // ended by shutdown
      }
    })();
    await Bun.sleep(50);
    const aborted = s.kv.nextStreamAbort();
    await s.server.close();
    await aborted;
    await ended;
    expect(s.kv.log.streamsOpen).toBe(0);
    const refused = await fetch(`http://127.0.0.1:${s.port}/`).then(
      () => false,
      () => true,
    );
    expect(refused).toBe(true);
  });

  test("the grpc-message encoding keeps printable ASCII and escapes the rest", () => {
    expect(encodeGrpcMessage("key is 5 bytes; the limit is 4 (--max-key-bytes)")).toBe("key is 5 bytes; the limit is 4 (--max-key-bytes)");
    expect(encodeGrpcMessage("100% é\n")).toBe("100%25 %C3%A9%0A");
  });
});
