import { afterEach, describe, expect, test } from "bun:test";
import type { NodeId } from "../../src/raft/types";
import type { PeerTransport } from "../../src/transport/peer_transport";
import { heartbeat, listen, recordingHandler, waitFor, type SnapshotHandler } from "./helpers";

const MiB = 1024 * 1024;
const started: PeerTransport[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((t) => t.close()));
});

async function pair(onSnapshot: SnapshotHandler, tuning = {}) {
  const receiver = recordingHandler(onSnapshot);
  const b = await listen("b", receiver, { tuning });
  const a = await listen("a", recordingHandler(), { tuning });
  started.push(a, b);
  a.setPeer("b", b.listenAddr);
  return { a, b, receiver };
}

/** Deterministic pseudo-random bytes in chunks of varying size (some above the 1 MiB chunk). */
async function* source(totalBytes: number, onYield: (n: number) => void): AsyncGenerator<Uint8Array> {
  const sizes = [300 * 1024, 3 * MiB + 17, 64 * 1024, MiB, 1];
  let produced = 0;
  let seed = 1;
  for (let i = 0; produced < totalBytes; i++) {
    const n = Math.min(sizes[i % sizes.length], totalBytes - produced);
    const chunk = new Uint8Array(n);
    for (let j = 0; j < n; j += 4096) chunk[j] = seed = (seed * 31 + 7) & 0xff;
    chunk[n - 1] = i & 0xff;
    produced += n;
    onYield(produced);
    yield chunk;
  }
}

describe("snapshot streaming", () => {
  test("50 MiB arrives intact and in order, with bounded data in flight", async () => {
    const total = 50 * MiB;
    let produced = 0;
    let consumed = 0;
    let maxInFlight = 0;
    let received: { from: NodeId; term: number; digest: string; bytes: number } | null = null;
    const { a, b } = await pair(async (from, term, chunks) => {
      const hash = new Bun.CryptoHasher("sha256");
      let bytes = 0;
      for await (const c of chunks) {
        expect(c.length).toBeLessThanOrEqual(MiB);
        hash.update(c);
        bytes += c.length;
        consumed = bytes;
        await Bun.sleep(1); // a staging area slower than the network
      }
      received = { from, term, digest: hash.digest("hex"), bytes };
      return true;
    });
    const expected = new Bun.CryptoHasher("sha256");
    for await (const c of source(total, () => {})) expected.update(c);

    const ok = await a.sendSnapshot(
      "b",
      9,
      source(total, (n) => {
        produced = n;
        maxInFlight = Math.max(maxInFlight, produced - consumed);
      }),
    );
    expect(ok).toBe(true);
    expect(received!).toEqual({ from: "a", term: 9, digest: expected.digest("hex"), bytes: total });
    // Window of 4 x 1 MiB, plus the re-chunking buffer and the 3 MiB input chunk being cut.
    expect(maxInFlight).toBeLessThanOrEqual(10 * MiB);
    expect(a.stats().peers.b.snapshotChunksSent).toBe(50);
    expect(b.stats().peers.a.snapshotChunksReceived).toBe(50);
  }, 60_000);

  test("an empty snapshot is delivered and accepted", async () => {
    let chunksSeen = -1;
    const { a } = await pair(async (_from, _term, chunks) => {
      chunksSeen = 0;
      for await (const _ of chunks) chunksSeen++;
      return true;
    });
    expect(await a.sendSnapshot("b", 1, source(0, () => {}))).toBe(true);
    expect(chunksSeen).toBe(0);
  });

  test("resolves false when the receiver rejects after reading everything", async () => {
    const { a } = await pair(async (_from, _term, chunks) => {
      for await (const _ of chunks);
      return false;
    });
    expect(await a.sendSnapshot("b", 1, source(5 * MiB, () => {}))).toBe(false);
  });

  test("resolves false when the receiver rejects early, and the connection stays usable", async () => {
    const { a, receiver } = await pair(async () => false);
    expect(await a.sendSnapshot("b", 1, source(20 * MiB, () => {}))).toBe(false);
    a.send([heartbeat("a", "b", 5)]);
    await waitFor(() => receiver.messages.length === 1);
    expect(a.stats().peers.b.connects).toBe(1);
  });

  test("resolves false when the receiver disconnects mid-stream; its iterable throws", async () => {
    let receiverError: unknown = null;
    let b!: PeerTransport;
    const setup = await pair(async (_from, _term, chunks) => {
      let n = 0;
      try {
        for await (const _ of chunks) {
          if (++n === 3) void b.close();
        }
      } catch (err) {
        receiverError = err;
        throw err;
      }
      return true;
    });
    b = setup.b;
    expect(await setup.a.sendSnapshot("b", 1, source(20 * MiB, () => {}))).toBe(false);
    await waitFor(() => receiverError !== null);
    expect(String(receiverError)).toMatch(/aborted/);
  });

  test("resolves false when the sender gives up after no ack progress; the receiver's iterable throws", async () => {
    let receiverError: unknown = null;
    const { a } = await pair(
      async (_from, _term, chunks) => {
        try {
          for await (const _ of chunks) await Bun.sleep(1000); // stalls after the first chunk
        } catch (err) {
          receiverError = err;
        }
        return true;
      },
      { snapshotAckTimeoutMs: 200 },
    );
    expect(await a.sendSnapshot("b", 1, source(20 * MiB, () => {}))).toBe(false);
    await waitFor(() => receiverError !== null, 5000, "receiver abort");
  });

  test("close() makes a pending snapshot send resolve false", async () => {
    const { a } = await pair(async (_from, _term, chunks) => {
      for await (const _ of chunks) await Bun.sleep(1000);
      return true;
    });
    const pending = a.sendSnapshot("b", 1, source(20 * MiB, () => {}));
    await Bun.sleep(100);
    await a.close();
    expect(await pending).toBe(false);
  });

  test("a snapshot to an unknown or unreachable peer resolves false", async () => {
    const { a } = await pair(async () => true, { connectTimeoutMs: 300 });
    expect(await a.sendSnapshot("nobody", 1, source(10, () => {}))).toBe(false);
    a.setPeer("c", "127.0.0.1:1");
    expect(await a.sendSnapshot("c", 1, source(10, () => {}))).toBe(false);
  });
});
