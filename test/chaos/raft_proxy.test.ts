// The Raft proxy forwards a peer connection after its Hello, and cuts one direction on demand:
// block(from) closes open connections from that peer and refuses new ones; unblock lets it back.
import { afterAll, expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { createConnection, createServer, type Socket } from "node:net";
import { freePort } from "../../src/devtools/local_cluster";
import { RaftProxy } from "../../src/chaos/raft_proxy";
import { HelloSchema } from "../../src/gen/rbkv/raft/v1/raft_pb";
import { encodeHelloFrame } from "../../src/transport/message_wire";

const received: Buffer[] = [];
const target = createServer((s) => s.on("data", (d: Buffer) => received.push(d)));
const targetPort = await freePort();
await new Promise<void>((r) => target.listen(targetPort, "127.0.0.1", () => r()));
const proxy = new RaftProxy("node-b", "127.0.0.1", await freePort(), targetPort);
await proxy.start();
afterAll(async () => {
  await proxy.close();
  target.close();
});

const until = async (what: string, cond: () => boolean) => {
  for (let i = 0; i < 100 && !cond(); i++) await new Promise((r) => setTimeout(r, 20));
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
};

function dial(from: string): { socket: Socket; closed: () => boolean } {
  let closed = false;
  const socket = createConnection({ host: "127.0.0.1", port: proxy.listenPort });
  socket.on("close", () => (closed = true));
  socket.on("error", () => {});
  socket.write(encodeHelloFrame(create(HelloSchema, { from, to: "node-b" })));
  return { socket, closed: () => closed };
}

const bytes = () => Buffer.concat(received).toString("latin1");

test("forwards the Hello and what follows", async () => {
  const c = dial("node-a");
  c.socket.write("payload-1");
  await until("payload", () => bytes().includes("payload-1"));
  c.socket.destroy();
});

test("block closes connections from that peer only, refuses new ones; unblock restores", async () => {
  const a = dial("node-a");
  const other = dial("node-c");
  await until("both admitted", () => proxy.stats.accepted >= 3);
  proxy.block("node-a");
  await until("node-a dropped", a.closed);
  expect(other.closed()).toBe(false);

  const again = dial("node-a");
  await until("node-a refused", again.closed);
  expect(proxy.stats.refused).toBe(1);

  proxy.unblock("node-a");
  const back = dial("node-a");
  back.socket.write("payload-2");
  await until("payload after unblock", () => bytes().includes("payload-2"));
  expect(back.closed()).toBe(false);
  back.socket.destroy();
  other.socket.destroy();
});

test("delay holds bytes from that peer", async () => {
  proxy.setDelay("node-a", 300);
  const c = dial("node-a");
  const t0 = performance.now();
  c.socket.write("payload-3");
  await until("delayed payload", () => bytes().includes("payload-3"));
  expect(performance.now() - t0).toBeGreaterThanOrEqual(250);
  proxy.heal();
  c.socket.destroy();
});
