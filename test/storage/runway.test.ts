import { afterEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { FileLogStorage } from "../../src/storage";
import type { Entry } from "../../src/raft/types";
import { entries, entry, plain, records, removeDir, rng, segmentFiles, tempDir } from "./helpers";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});

function newDir(): string {
  const d = tempDir();
  dirs.push(d);
  return d;
}

/** Size of the file and where its records end. */
function layout(file: string): { size: number; recordsEnd: number } {
  return { size: fs.statSync(file).size, recordsEnd: records(file).at(-1)!.end };
}

describe("zero-filled runway ahead of the log's writes", () => {
  test("saves land in the runway; a reopen reads the zeros as the end and writes on from the last record", async () => {
    const dir = newDir();
    const s = await FileLogStorage.open(dir, { runwayBytes: 64 << 10 });
    for (let i = 1; i <= 20; i += 4) await s.save({ hardState: { term: 1, vote: "a", commit: i }, entries: entries(i, i + 3, 1, 100), snapshot: null });
    await s.close();
    const file = path.join(dir, segmentFiles(dir)[0]);
    const before = layout(file);
    expect(before.size).toBeGreaterThan(before.recordsEnd);
    expect(new Uint8Array(fs.readFileSync(file)).subarray(before.recordsEnd).every((b) => b === 0)).toBe(true);

    const logs: string[] = [];
    const r = await FileLogStorage.open(dir, { runwayBytes: 64 << 10, logger: (m) => logs.push(m) });
    expect(logs).toEqual([]);
    expect(r.lastIndex()).toBe(20);
    expect(plain(r.entries(1, 21, Infinity))).toEqual(plain(entries(1, 20, 1, 100)));
    await r.save({ hardState: { term: 2, vote: "b", commit: 21 }, entries: [entry(21, 2, 50)], snapshot: null });
    await r.close();
    // The new records follow the old ones directly: the zeros in between were written over.
    const after = records(file);
    expect(after.some((rec) => rec.offset === before.recordsEnd)).toBe(true);

    const again = await FileLogStorage.open(dir, { logger: (m) => logs.push(m) });
    expect(logs).toEqual([]);
    expect(plain(again.entries(1, 22, Infinity))).toEqual(plain([...entries(1, 20, 1, 100), entry(21, 2, 50)]));
    expect(again.hardState()).toEqual({ term: 2, vote: "b", commit: 21 });
    await again.close();
  });

  test("segments sealed with zeros after their last record reopen without complaint", async () => {
    const dir = newDir();
    const s = await FileLogStorage.open(dir, { segmentBytes: 16 << 10, runwayBytes: 32 << 10 });
    for (let i = 1; i <= 200; i += 5) await s.save({ hardState: { term: 1, vote: "a", commit: i }, entries: entries(i, i + 4, 1, 200), snapshot: null });
    await s.close();
    const files = segmentFiles(dir);
    expect(files.length).toBeGreaterThan(2);
    const sealedWithZeros = files.slice(0, -1).filter((f) => {
      const { size, recordsEnd } = layout(path.join(dir, f));
      return size > recordsEnd;
    });
    expect(sealedWithZeros.length).toBeGreaterThan(0);

    const logs: string[] = [];
    const r = await FileLogStorage.open(dir, { segmentBytes: 16 << 10, logger: (m) => logs.push(m) });
    expect(logs).toEqual([]);
    expect(plain(r.entries(1, 201, Infinity))).toEqual(plain(entries(1, 200, 1, 200)));
    await r.close();
  });

  for (const seed of [1, 2, 3]) {
    test(`writes racing the background zero-filling never lose a record (seed ${seed})`, async () => {
      // A tiny runway is zeroed in pieces of its own size, so saves of up to 3 KiB keep catching
      // up with the piece being written and must wait for it.
      const dir = newDir();
      const random = rng(seed);
      const s = await FileLogStorage.open(dir, { segmentBytes: 256 << 10, runwayBytes: 1024 });
      const expected: Entry[] = [];
      let next = 1;
      for (let round = 0; round < 150; round++) {
        const batch: Entry[] = [];
        const count = 1 + Math.floor(random() * 4);
        for (let k = 0; k < count; k++) batch.push(entry(next++, 1, 1 + Math.floor(random() * 750), round));
        expected.push(...batch);
        await s.save({ hardState: { term: 1, vote: "a", commit: next - 1 }, entries: batch, snapshot: null });
        if (random() < 0.3) await new Promise((r) => setTimeout(r, random() * 3));
      }
      await s.close();
      const logs: string[] = [];
      const r = await FileLogStorage.open(dir, { segmentBytes: 256 << 10, logger: (m) => logs.push(m) });
      expect(logs).toEqual([]);
      expect(r.lastIndex()).toBe(next - 1);
      expect(plain(r.entries(1, next, Infinity))).toEqual(plain(expected));
      await r.close();
    }, 60_000);
  }
});
