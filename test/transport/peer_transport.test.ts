import { afterEach, describe, expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import * as net from "node:net";
import { FrameSchema, HelloSchema } from "../../src/gen/rbkv/raft/v1/raft_pb";
import type { Message } from "../../src/raft/types";
import { parseHostPort } from "../../src/transport/address";
import { encodeFrame } from "../../src/transport/frame";
import type { PeerTransport } from "../../src/transport/peer_transport";
import { heartbeat, listen, recordingHandler, waitFor } from "./helpers";

const started: PeerTransport[] = [];
async function start(...args: Parameters<typeof listen>): Promise<PeerTransport> {
  const t = await listen(...args);
  started.push(t);
  return t;
}
afterEach(async () => {
  await Promise.all(started.splice(0).map((t) => t.close()));
});

/** Connects a raw socket, writes `bytes`, and resolves once the server closed it (or after ms). */
function rawExchange(addr: string, bytes: Uint8Array[], ms = 3000): Promise<"closed" | "open"> {
  const { host, port } = parseHostPort(addr);
  return new Promise((resolve) => {
    const socket = net.connect({ host, port }, () => {
      for (const b of bytes) socket.write(b);
    });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve("open");
    }, ms);
    socket.on("error", () => {});
    socket.on("close", () => {
      clearTimeout(timer);
      resolve("closed");
    });
  });
}

const hello = (from: string, to: string, clusterId = 0n) =>
  encodeFrame(create(FrameSchema, { hello: create(HelloSchema, { from, to, clusterId }) }));

describe("peer transport", () => {
  test("exposes the bound port when listening on port 0", async () => {
    const t = await start("n1", recordingHandler());
    expect(t.listenAddr).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(parseHostPort(t.listenAddr).port).toBeGreaterThan(0);
  });

  test("10,000 messages arrive in order, batched into far fewer frames", async () => {
    const receiver = recordingHandler();
    const b = await start("b", receiver);
    const a = await start("a", recordingHandler());
    a.setPeer("b", b.listenAddr);
    const total = 10_000;
    // 100 turns of 100 messages, several send() calls per turn.
    for (let turn = 0; turn < 100; turn++) {
      for (let k = 0; k < 100; k += 25) {
        const batch: Message[] = [];
        for (let j = k; j < k + 25; j++) batch.push(heartbeat("a", "b", turn * 100 + j));
        a.send(batch);
      }
      await new Promise((r) => setImmediate(r));
    }
    await waitFor(() => receiver.messages.length >= total, 10_000, "all messages");
    expect(receiver.messages.map((m) => (m.type === "heartbeat" ? m.commit : -1))).toEqual([...Array(total).keys()]);
    expect(receiver.frames.length).toBeLessThanOrEqual(100);
    const sent = a.stats().peers.b;
    const got = b.stats().peers.a;
    expect(sent.messagesSent).toBe(total);
    expect(sent.framesSent).toBe(receiver.frames.length + 1); // + the Hello
    expect(got.messagesReceived).toBe(total);
    expect(got.bytesReceived).toBe(sent.bytesSent);
  });

  test("all messages queued in one turn leave as one frame", async () => {
    const receiver = recordingHandler();
    const b = await start("b", receiver);
    const a = await start("a", recordingHandler());
    a.setPeer("b", b.listenAddr);
    a.send([heartbeat("a", "b", 0)]);
    await waitFor(() => receiver.messages.length === 1);
    for (let i = 1; i <= 500; i++) a.send([heartbeat("a", "b", i)]);
    await waitFor(() => receiver.messages.length === 501);
    expect(receiver.frames.length).toBe(2);
  });

  test("reconnects after the receiver restarts on the same port", async () => {
    const first = recordingHandler();
    const b1 = await listen("b", first);
    const addr = b1.listenAddr;
    const a = await start("a", recordingHandler(), { tuning: { backoffInitialMs: 20, backoffMaxMs: 100 } });
    a.setPeer("b", addr);
    a.send([heartbeat("a", "b", 1)]);
    await waitFor(() => first.messages.length === 1);
    await b1.close();
    await waitFor(() => a.stats().peers.b.connected === false, 5000, "disconnect noticed");

    const second = recordingHandler();
    const b2 = await start("b", second, { listenAddr: addr });
    // Raft retransmits; the transport drops while disconnected and reconnects after backoff.
    let n = 2;
    await waitFor(
      () => {
        a.send([heartbeat("a", "b", n++)]);
        return second.messages.length > 0;
      },
      5000,
      "delivery after restart",
    );
    expect(a.stats().peers.b.connects).toBe(2);
    expect(b2.stats().peers.a.messagesReceived).toBeGreaterThan(0);
  });

  test("a Hello addressed to another node is refused", async () => {
    const receiver = recordingHandler();
    const b = await start("b", receiver);
    const wrong = encodeFrame(create(FrameSchema, { messages: [] }));
    expect(await rawExchange(b.listenAddr, [hello("a", "c"), wrong])).toBe("closed");
    // The right Hello keeps the connection open.
    expect(await rawExchange(b.listenAddr, [hello("a", "b")], 300)).toBe("open");
  });

  test("a transport pointed at the wrong node delivers nothing", async () => {
    const receiver = recordingHandler();
    const b = await start("b", receiver);
    const a = await start("a", recordingHandler());
    a.setPeer("c", b.listenAddr); // b answers on the address a thinks is c's
    for (let i = 0; i < 5; i++) {
      a.send([heartbeat("a", "c", i)]);
      await Bun.sleep(30);
    }
    expect(receiver.messages.length).toBe(0);
    expect(a.stats().peers.c.messagesSent).toBeLessThanOrEqual(5);
  });

  test("a Hello from another cluster is refused", async () => {
    const b = await start("b", recordingHandler(), { clusterId: 42n });
    expect(await rawExchange(b.listenAddr, [hello("a", "b", 7n)])).toBe("closed");
    expect(await rawExchange(b.listenAddr, [hello("a", "b", 42n)], 300)).toBe("open");
  });

  test("a frame before the Hello is refused", async () => {
    const b = await start("b", recordingHandler());
    const frame = encodeFrame(create(FrameSchema, { messages: [] }));
    expect(await rawExchange(b.listenAddr, [frame])).toBe("closed");
  });

  test("an oversized frame closes the connection and the transport keeps serving", async () => {
    const receiver = recordingHandler();
    const b = await start("b", receiver, { tuning: { maxFrameBytes: 1024 } });
    const header = new Uint8Array([0, 0, 0x10, 0]); // 4096 bytes announced
    expect(await rawExchange(b.listenAddr, [hello("a", "b"), header, new Uint8Array(100)])).toBe("closed");
    // Also a huge announced length, 2^32-1 bytes, with nothing behind it.
    expect(await rawExchange(b.listenAddr, [hello("a", "b"), new Uint8Array([255, 255, 255, 255])])).toBe("closed");

    const a = await start("a", recordingHandler());
    a.setPeer("b", b.listenAddr);
    a.send([heartbeat("a", "b", 1)]);
    await waitFor(() => receiver.messages.length === 1);
  });

  test("messages to unknown peers are counted and dropped", async () => {
    const a = await start("a", recordingHandler());
    a.send([heartbeat("a", "zz", 1)]);
    expect(a.stats().messagesToUnknownPeers).toBe(1);
  });

  test("removePeer closes the connection; later messages are not delivered", async () => {
    const receiver = recordingHandler();
    const b = await start("b", receiver);
    const a = await start("a", recordingHandler());
    a.setPeer("b", b.listenAddr);
    a.send([heartbeat("a", "b", 1)]);
    await waitFor(() => receiver.messages.length === 1);
    a.removePeer("b");
    await waitFor(() => b.stats().inboundConnections === 0);
    a.send([heartbeat("a", "b", 2)]);
    await Bun.sleep(50);
    expect(receiver.messages.length).toBe(1);
  });
});
