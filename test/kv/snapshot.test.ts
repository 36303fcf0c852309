import { afterAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { PutRequestSchema } from "../../src/gen/rbkv/v1/kv_pb";
import { putCommand } from "../../src/kv/commands";
import { readSnapshotMeta } from "../../src/kv/snapshot_format";
import { KvStore } from "../../src/kv/store";
import { Harness, cleanupDirs, enc, tempDir } from "./helpers";

afterAll(cleanupDirs);

const KEYS = 20_000;

async function bigStore(): Promise<Harness> {
  const h = await Harness.create({ snapshotChunkBytes: 64 << 10 });
  await h.confChange({ kind: "addVoter", node: "n1", context: enc("ctx1") }, { voters: ["n1"], learners: [] });
  for (let i = 0; i < KEYS; i += 1000) {
    const cmds = [];
    for (let j = i; j < i + 1000; j++) {
      const key = `key/${String(j).padStart(6, "0")}`;
      const ttl = j % 10 === 0 ? { seconds: 60n, nanos: 0 } : undefined;
      cmds.push(putCommand(create(PutRequestSchema, { key: enc(key), value: enc(`value-${j}`), ttl }), 1000));
    }
    await h.apply(...cmds);
  }
  await h.del("key/000001");
  return h;
}

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  for await (const c of stream) chunks.push(c);
  return chunks;
}

async function* replay(chunks: Uint8Array[]): AsyncIterable<Uint8Array> {
  yield* chunks;
}

test("a snapshot round trip reproduces reads, meta, history and the expiry index", async () => {
  const source = await bigStore();
  const chunks = await collect(source.store.createSnapshotStream());
  expect(chunks.length).toBeGreaterThan(10);
  expect(Math.max(...chunks.map((c) => c.length))).toBeLessThan(2 * (64 << 10));

  const meta = readSnapshotMeta(chunks[0])!;
  expect(meta).toMatchObject({ index: source.store.appliedIndex(), term: 1, revision: KEYS + 1 });
  expect(meta.conf).toEqual({ voters: ["n1"], learners: [] });

  const staged = join(await tempDir(), "staged");
  const installed = await KvStore.installSnapshot(staged, replay(chunks));
  expect(installed).toEqual(meta);

  const target = await Harness.create();
  await target.put("stale", "x");
  await target.store.replaceWith(staged);
  const t = target.store;
  expect(existsSync(staged)).toBe(false);
  expect(t.snapshotMeta()).toEqual(source.store.snapshotMeta());
  expect(new TextDecoder().decode(t.conf().contexts.n1)).toBe("ctx1");
  expect(t.get(enc("stale"), 1000).kv).toBeUndefined();

  const all = { key: enc("key/"), rangeEnd: enc("key0") };
  const [a, b] = [await source.store.range(all, 1000), await t.range(all, 1000)];
  expect(b.count).toBe(BigInt(KEYS - 1));
  expect(b).toEqual(a);
  expect(t.get(enc("key/012345"), 1000)).toEqual(source.store.get(enc("key/012345"), 1000));
  expect(await t.expiredKeys(100_000, 5)).toEqual(await source.store.expiredKeys(100_000, 5));
  expect(await t.eventsSince(KEYS, enc("key/"), enc("key0"))).toEqual(await source.store.eventsSince(KEYS, enc("key/"), enc("key0")));

  // The replaced store keeps applying after the snapshot's index.
  target.index = t.appliedIndex();
  await target.put("after", "snapshot");
  expect(t.revision()).toBe(KEYS + 2);
  await source.store.close();
  await t.close();
}, 120_000);

test("a corrupted or truncated snapshot is refused and leaves nothing behind", async () => {
  const h = await Harness.create({ snapshotChunkBytes: 16 << 10 });
  for (let i = 0; i < 2000; i++) await h.put(`k${i}`, `v${i}`.repeat(10));
  const chunks = await collect(h.store.createSnapshotStream());
  expect(chunks.length).toBeGreaterThan(3);

  const corrupted = chunks.map((c) => Uint8Array.from(c));
  corrupted[2][100] ^= 0x01;
  const dir1 = join(await tempDir(), "bad");
  await expect(KvStore.installSnapshot(dir1, replay(corrupted))).rejects.toThrow();
  expect(existsSync(dir1)).toBe(false);

  const dir2 = join(await tempDir(), "short");
  await expect(KvStore.installSnapshot(dir2, replay(chunks.slice(0, -1)))).rejects.toThrow(/ended early/);
  expect(existsSync(dir2)).toBe(false);

  // Re-chunked differently (one byte at a time for the header) it still installs.
  const whole = Buffer.concat(chunks);
  const pieces = [whole.subarray(0, 1), whole.subarray(1, 7), whole.subarray(7, 5000), whole.subarray(5000)];
  expect(readSnapshotMeta(pieces[0])).toBeUndefined();
  const dir3 = join(await tempDir(), "ok");
  expect((await KvStore.installSnapshot(dir3, replay(pieces))).revision).toBe(2000);
  await h.store.close();
}, 60_000);
