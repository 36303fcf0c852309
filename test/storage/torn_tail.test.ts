import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { FileLogStorage } from "../../src/storage";
import { entries, plain, removeDir, segmentFiles, tempDir } from "./helpers";

const root = tempDir();
const ENTRY9_RECORD_BYTES = 9 + 17 + 40;
afterAll(() => removeDir(root));

function copyDir(from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true });
  for (const name of fs.readdirSync(from)) fs.copyFileSync(path.join(from, name), path.join(to, name));
}

/**
 * Writes three saves; the last one (entry 9 plus a hard state) is the batch that gets torn.
 * With a small segmentBytes the last batch goes to a fresh segment, header included.
 */
async function writeLog(dir: string, segmentBytes: number): Promise<{ lastFile: string; lastBatchStart: number; entryRecordEnd: number }> {
  const s = await FileLogStorage.open(dir, { segmentBytes });
  await s.save({ hardState: { term: 1, vote: "a", commit: 2 }, entries: entries(1, 5, 1, 30), snapshot: null });
  await s.save({ hardState: { term: 2, vote: "b", commit: 5 }, entries: entries(6, 8, 2, 30), snapshot: null });
  const filesBefore = segmentFiles(dir);
  const sizeBefore = fs.statSync(path.join(dir, filesBefore[filesBefore.length - 1])).size;
  await s.save({ hardState: { term: 2, vote: "b", commit: 9 }, entries: entries(9, 9, 2, 40), snapshot: null });
  await s.close();
  const files = segmentFiles(dir);
  const lastFile = files[files.length - 1];
  const newSegment = files.length > filesBefore.length;
  const lastBatchStart = newSegment ? 0 : sizeBefore;
  const size = fs.statSync(path.join(dir, lastFile)).size;
  // The hard state record (term, commit, vote "b") is 9 + 17 bytes and ends the file.
  return { lastFile, lastBatchStart, entryRecordEnd: size - 26 };
}

describe("torn tail recovery", () => {
  for (const [label, segmentBytes] of [["within a segment", 1 << 20], ["in a freshly started segment", 500]] as const) {
    test(`every cut through the last batch ${label} recovers the durable prefix`, async () => {
      const original = path.join(root, `original-${segmentBytes}`);
      const { lastFile, lastBatchStart, entryRecordEnd } = await writeLog(original, segmentBytes);
      const fullSize = fs.statSync(path.join(original, lastFile)).size;
      expect(segmentFiles(original).length).toBe(segmentBytes === 500 ? 2 : 1);

      for (let cut = lastBatchStart; cut <= fullSize; cut++) {
        const dir = path.join(root, `cut-${segmentBytes}-${cut}`);
        copyDir(original, dir);
        fs.truncateSync(path.join(dir, lastFile), cut);
        const logs: string[] = [];
        const s = await FileLogStorage.open(dir, { segmentBytes, logger: (m) => logs.push(m) });

        const hasEntry9 = cut >= entryRecordEnd;
        const whole = cut === fullSize;
        expect(s.lastIndex()).toBe(hasEntry9 ? 9 : 8);
        expect(plain(s.entries(1, 9, Infinity))).toEqual(plain([...entries(1, 5, 1, 30), ...entries(6, 8, 2, 30)]));
        if (hasEntry9) expect(plain(s.entries(9, 10, Infinity))).toEqual(plain(entries(9, 9, 2, 40)));
        expect(s.hardState()).toEqual({ term: 2, vote: "b", commit: whole ? 9 : 5 });
        // Something is reported whenever bytes were discarded or a torn segment removed; cuts at
        // record boundaries (after the previous batch or new segment header, after entry 9, after
        // everything) leave nothing to report.
        const clean = cut === fullSize || cut === entryRecordEnd || cut === entryRecordEnd - ENTRY9_RECORD_BYTES;
        expect(logs.length > 0).toBe(!clean);
        for (const m of logs) expect(m).toContain(lastFile);

        // Writable again, and the new write survives another reopen.
        const next = s.lastIndex() + 1;
        await s.save({ hardState: { term: 3, vote: "c", commit: next }, entries: entries(next, next, 3, 20), snapshot: null });
        await s.close();
        const r = await FileLogStorage.open(dir, { segmentBytes, logger: (m) => logs.push(`reopen: ${m}`) });
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
