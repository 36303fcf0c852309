import { afterEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { FileLogStorage } from "../../src/storage";
import { entries, plain, removeDir, segmentFiles, tempDir } from "./helpers";

const dirs: string[] = [];
function newDir(): string {
  const d = tempDir();
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});

describe("FileLogStorage round trip", () => {
  test("a new directory starts empty at the initial snapshot", async () => {
    const dir = newDir();
    const conf = { voters: ["a"], learners: [] };
    const s = await FileLogStorage.open(path.join(dir, "nested"), { initialSnapshot: { index: 0, term: 0, conf } });
    expect(s.firstIndex()).toBe(1);
    expect(s.lastIndex()).toBe(0);
    expect(s.term(0)).toBe(0);
    expect(s.snapshot()).toEqual({ index: 0, term: 0, conf });
    expect(s.initialState()).toEqual({ hardState: { term: 0, vote: "", commit: 0 }, snapshot: { index: 0, term: 0, conf } });
    await s.close();
    // initialSnapshot only applies to an empty directory.
    const again = await FileLogStorage.open(path.join(dir, "nested"), { initialSnapshot: { index: 7, term: 2, conf: { voters: ["z"], learners: [] } } });
    expect(again.snapshot()).toEqual({ index: 0, term: 0, conf });
    await again.close();
  });

  test("entries and hard state survive close and reopen", async () => {
    const dir = newDir();
    const s = await FileLogStorage.open(dir);
    await s.save({ hardState: { term: 1, vote: "n1", commit: 0 }, entries: entries(1, 10, 1, 100), snapshot: null });
    await s.save({ hardState: { term: 2, vote: "n2", commit: 8 }, entries: entries(11, 20, 2, 3), snapshot: null });
    const before = plain(s.entries(1, 21, Infinity));
    await s.close();

    const r = await FileLogStorage.open(dir);
    expect(r.initialState().hardState).toEqual({ term: 2, vote: "n2", commit: 8 });
    expect(r.hardState()).toEqual({ term: 2, vote: "n2", commit: 8 });
    expect(r.firstIndex()).toBe(1);
    expect(r.lastIndex()).toBe(20);
    expect(r.term(10)).toBe(1);
    expect(r.term(11)).toBe(2);
    expect(plain(r.entries(1, 21, Infinity))).toEqual(before);
    expect(plain(r.entries(1, 21, Infinity))).toEqual(plain([...entries(1, 10, 1, 100), ...entries(11, 20, 2, 3)]));
    await r.close();
  });

  test("conflicting entries are truncated and replaced, also after reopen", async () => {
    const dir = newDir();
    const s = await FileLogStorage.open(dir, { cacheBytes: 0 });
    await s.save({ hardState: null, entries: entries(1, 10, 1), snapshot: null });
    await s.save({ hardState: null, entries: entries(6, 8, 3), snapshot: null });
    expect(s.lastIndex()).toBe(8);
    const want = plain([...entries(1, 5, 1), ...entries(6, 8, 3)]);
    expect(plain(s.entries(1, 9, Infinity))).toEqual(want);
    await s.save({ hardState: null, entries: entries(9, 9, 3), snapshot: null });
    await s.close();
    const r = await FileLogStorage.open(dir);
    expect(r.lastIndex()).toBe(9);
    expect(plain(r.entries(1, 10, Infinity))).toEqual([...want, ...plain(entries(9, 9, 3))]);
    await r.close();
  });

  test("a snapshot replaces the whole log", async () => {
    const dir = newDir();
    const s = await FileLogStorage.open(dir, { segmentBytes: 300 });
    await s.save({ hardState: null, entries: entries(1, 20, 1), snapshot: null });
    const meta = { index: 50, term: 4, conf: { voters: ["a", "b"], learners: ["c"] } };
    await s.save({ hardState: { term: 4, vote: "", commit: 50 }, entries: entries(51, 52, 4), snapshot: meta });
    expect(s.firstIndex()).toBe(51);
    expect(s.lastIndex()).toBe(52);
    expect(s.term(50)).toBe(4);
    expect(() => s.term(20)).toThrow();
    await s.close();
    const r = await FileLogStorage.open(dir);
    expect(r.snapshot()).toEqual(meta);
    expect(r.hardState()).toEqual({ term: 4, vote: "", commit: 50 });
    expect(plain(r.entries(51, 53, Infinity))).toEqual(plain(entries(51, 52, 4)));
    await r.close();
  });

  test("segments roll over at segmentBytes and all read back", async () => {
    const dir = newDir();
    const s = await FileLogStorage.open(dir, { segmentBytes: 1000, cacheBytes: 0 });
    for (let i = 1; i <= 100; i += 5) await s.save({ hardState: { term: 1, vote: "", commit: i }, entries: entries(i, i + 4, 1, 50), snapshot: null });
    expect(segmentFiles(dir).length).toBeGreaterThan(5);
    expect(plain(s.entries(1, 101, Infinity))).toEqual(plain(entries(1, 100, 1, 50)));
    await s.close();
    const r = await FileLogStorage.open(dir, { segmentBytes: 1000 });
    expect(plain(r.entries(1, 101, Infinity))).toEqual(plain(entries(1, 100, 1, 50)));
    expect(r.hardState().commit).toBe(96);
    await r.close();
  });

  test("compaction deletes whole segments below the point and survives reopen", async () => {
    const dir = newDir();
    const s = await FileLogStorage.open(dir, { segmentBytes: 1000 });
    for (let i = 1; i <= 100; i += 5) await s.save({ hardState: null, entries: entries(i, i + 4, 1, 50), snapshot: null });
    const before = segmentFiles(dir).length;
    const meta = { index: 80, term: 1, conf: { voters: ["a"], learners: [] } };
    await s.compact(meta);
    const after = segmentFiles(dir).length;
    expect(after).toBeLessThan(before);
    expect(after).toBeLessThanOrEqual(3);
    expect(s.firstIndex()).toBe(81);
    expect(s.term(80)).toBe(1);
    expect(() => s.entries(80, 81, Infinity)).toThrow();
    await expect(s.compact({ index: 101, term: 1, conf: meta.conf })).rejects.toThrow(/past last index/);
    await s.close();
    const r = await FileLogStorage.open(dir, { segmentBytes: 1000 });
    expect(r.snapshot()).toEqual(meta);
    expect(r.firstIndex()).toBe(81);
    expect(plain(r.entries(81, 101, Infinity))).toEqual(plain(entries(81, 100, 1, 50)));
    // Compacting away everything leaves an empty, writable log.
    await r.compact({ index: 100, term: 1, conf: meta.conf });
    await r.save({ hardState: null, entries: entries(101, 101, 2), snapshot: null });
    await r.close();
    const r2 = await FileLogStorage.open(dir);
    expect(r2.firstIndex()).toBe(101);
    expect(plain(r2.entries(101, 102, Infinity))).toEqual(plain(entries(101, 101, 2)));
    await r2.close();
  });

  test("entries() honours maxBytes but always returns at least one entry", async () => {
    const dir = newDir();
    for (const cacheBytes of [0, 1 << 20]) {
      const s = await FileLogStorage.open(path.join(dir, String(cacheBytes)), { cacheBytes });
      await s.save({ hardState: null, entries: entries(1, 10, 1, 100), snapshot: null });
      expect(s.entries(1, 11, 0).map((e) => e.index)).toEqual([1]);
      expect(s.entries(1, 11, 99).map((e) => e.index)).toEqual([1]);
      expect(s.entries(1, 11, 250).map((e) => e.index)).toEqual([1, 2]);
      expect(s.entries(3, 11, 300).map((e) => e.index)).toEqual([3, 4, 5]);
      expect(s.entries(3, 5, 1e9).map((e) => e.index)).toEqual([3, 4]);
      expect(s.entries(4, 4, 1e9)).toEqual([]);
      expect(() => s.entries(0, 3, 100)).toThrow();
      expect(() => s.entries(1, 12, 100)).toThrow();
      await s.close();
    }
  });

  test("overlapping saves are refused", async () => {
    const dir = newDir();
    const s = await FileLogStorage.open(dir);
    const first = s.save({ hardState: null, entries: entries(1, 1, 1), snapshot: null });
    await expect(s.save({ hardState: null, entries: entries(2, 2, 1), snapshot: null })).rejects.toThrow(/in progress/);
    await first;
    expect(s.lastIndex()).toBe(1);
    await s.close();
  });

  test("appends that leave a gap or reach below the compaction point are refused", async () => {
    const dir = newDir();
    const s = await FileLogStorage.open(dir);
    await s.save({ hardState: null, entries: entries(1, 3, 1), snapshot: null });
    await expect(s.save({ hardState: null, entries: entries(5, 5, 1), snapshot: null })).rejects.toThrow(/gap/);
    await s.compact({ index: 2, term: 1, conf: { voters: [], learners: [] } });
    await expect(s.save({ hardState: null, entries: entries(2, 2, 1), snapshot: null })).rejects.toThrow(/compaction point/);
    expect(s.lastIndex()).toBe(3);
    await s.close();
    expect(fs.existsSync(dir)).toBe(true);
  });
});
