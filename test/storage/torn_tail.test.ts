import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { FileLogStorage } from "../../src/storage";
import { entries, plain, records, removeDir, segmentFiles, tempDir } from "./helpers";

const root = tempDir();
afterAll(() => removeDir(root));

function copyDir(from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true });
  for (const name of fs.readdirSync(from)) fs.copyFileSync(path.join(from, name), path.join(to, name));
}

/**
 * Writes three saves; the last one (entry 9 plus a hard state) is the batch that gets torn.
 * With a small segmentBytes the last batch goes to a fresh segment, header included.
 * Offsets are of records, so they hold with or without a zero-filled runway after them.
 */
async function writeLog(dir: string, segmentBytes: number, runwayBytes: number): Promise<{ lastFile: string; lastBatchStart: number; entryRecordEnd: number; end: number }> {
  const s = await FileLogStorage.open(dir, { segmentBytes, runwayBytes });
  await s.save({ hardState: { term: 1, vote: "a", commit: 2 }, entries: entries(1, 5, 1, 30), snapshot: null });
  await s.save({ hardState: { term: 2, vote: "b", commit: 5 }, entries: entries(6, 8, 2, 30), snapshot: null });
  const filesBefore = segmentFiles(dir);
  const endBefore = records(path.join(dir, filesBefore[filesBefore.length - 1])).at(-1)!.end;
  await s.save({ hardState: { term: 2, vote: "b", commit: 9 }, entries: entries(9, 9, 2, 40), snapshot: null });
  await s.close();
  const files = segmentFiles(dir);
  const lastFile = files[files.length - 1];
  const newSegment = files.length > filesBefore.length;
  const lastBatchStart = newSegment ? 0 : endBefore;
  const end = records(path.join(dir, lastFile)).at(-1)!.end;
  // The hard state record (term, commit, vote "b") is 9 + 17 bytes and ends the batch.
  return { lastFile, lastBatchStart, entryRecordEnd: end - 26, end };
}

/**
 * A crash mid-write leaves the batch on disk only up to `cut`. Appending, the file ends there;
 * writing into the runway, the rest of the batch is still the zeros that were there before.
 */
function tear(file: string, cut: number, end: number, runway: boolean): void {
  if (!runway) return fs.truncateSync(file, cut);
  const fd = fs.openSync(file, "r+");
  fs.writeSync(fd, new Uint8Array(end - cut), 0, end - cut, cut);
  fs.closeSync(fd);
}

describe("torn tail recovery", () => {
  const cases = [
    ["within a segment", 1 << 20, 0],
    ["in a freshly started segment", 500, 0],
    ["within a segment's zero-filled runway (the rest of the batch left as zeros)", 1 << 20, 64 << 10],
    // A new segment's first write appends (its runway comes after), so this is a torn append whose
    // file size reached the disk but whose data did not all: the rest reads as zeros.
    ["in a freshly started segment, the rest of the batch read back as zeros", 500, 64 << 10],
  ] as const;
  for (const [label, segmentBytes, runwayBytes] of cases) {
    test(`every cut through the last batch ${label} recovers the durable prefix`, async () => {
      const original = path.join(root, `original-${segmentBytes}-${runwayBytes}`);
      const { lastFile, lastBatchStart, entryRecordEnd, end } = await writeLog(original, segmentBytes, runwayBytes);
      const originalBytes = new Uint8Array(fs.readFileSync(path.join(original, lastFile)));
      expect(segmentFiles(original).length).toBe(segmentBytes === 500 ? 2 : 1);
      if (runwayBytes > 0 && segmentBytes > 500) expect(originalBytes.length).toBeGreaterThan(end);
      const boundaries = records(path.join(original, lastFile)).map((r) => r.end);

      for (let cut = lastBatchStart; cut <= end; cut++) {
        const dir = path.join(root, `cut-${segmentBytes}-${runwayBytes}-${cut}`);
        copyDir(original, dir);
        tear(path.join(dir, lastFile), cut, end, runwayBytes > 0);
        const logs: string[] = [];
        const s = await FileLogStorage.open(dir, { segmentBytes, runwayBytes, logger: (m) => logs.push(m) });

        const hasEntry9 = cut >= entryRecordEnd;
        const whole = cut === end;
        expect(s.lastIndex()).toBe(hasEntry9 ? 9 : 8);
        expect(plain(s.entries(1, 9, Infinity))).toEqual(plain([...entries(1, 5, 1, 30), ...entries(6, 8, 2, 30)]));
        if (hasEntry9) expect(plain(s.entries(9, 10, Infinity))).toEqual(plain(entries(9, 9, 2, 40)));
        expect(s.hardState()).toEqual({ term: 2, vote: "b", commit: whole ? 9 : 5 });
        // Something is reported whenever bytes were discarded or a torn segment removed. A cut at a
        // record boundary leaves nothing to report, and neither does one that kept only zeros of
        // a record (they read as the end of the segment).
        const boundary = Math.max(lastBatchStart, ...boundaries.filter((b) => b <= cut));
        const keptTornBytes = originalBytes.subarray(boundary, cut).some((b) => b !== 0);
        const segmentRemoved = lastBatchStart === 0 && cut < boundaries[0];
        expect(logs.length > 0).toBe(keptTornBytes || segmentRemoved);
        for (const m of logs) expect(m).toContain(lastFile);

        // Writable again, and the new write survives another reopen.
        const next = s.lastIndex() + 1;
        await s.save({ hardState: { term: 3, vote: "c", commit: next }, entries: entries(next, next, 3, 20), snapshot: null });
        await s.close();
        const r = await FileLogStorage.open(dir, { segmentBytes, runwayBytes, logger: (m) => logs.push(`reopen: ${m}`) });
        expect(logs.filter((m) => m.startsWith("reopen"))).toEqual([]);
        expect(r.lastIndex()).toBe(next);
        expect(plain(r.entries(next, next + 1, Infinity))).toEqual(plain(entries(next, next, 3, 20)));
        expect(plain(r.entries(1, 9, Infinity))).toEqual(plain([...entries(1, 5, 1, 30), ...entries(6, 8, 2, 30)]));
        expect(r.hardState()).toEqual({ term: 3, vote: "c", commit: next });
        await r.close();
        removeDir(dir);
      }
      // Hundreds of reopen+fsync rounds: generous room for a loaded shared disk.
    }, 120_000);
  }

  test("a torn first write of a brand-new log leaves a fresh log", async () => {
    const dir = path.join(root, "fresh");
    const s = await FileLogStorage.open(dir);
    await s.close();
    const file = path.join(dir, segmentFiles(dir)[0]);
    fs.truncateSync(file, 5);
    const logs: string[] = [];
    const r = await FileLogStorage.open(dir, { logger: (m) => logs.push(m), initialSnapshot: { index: 0, term: 0, conf: { voters: ["x"], learners: [] } } });
    expect(logs.length).toBe(2);
    expect(r.lastIndex()).toBe(0);
    expect(r.snapshot().conf.voters).toEqual(["x"]);
    await r.close();
  });
});
