import { afterEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { FileLogStorage } from "../../src/storage";
import { RecordType } from "../../src/storage/record";
import { entries, records, removeDir, segmentFiles, tempDir } from "./helpers";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});

function flipByte(file: string, offset: number): void {
  const fd = fs.openSync(file, "r+");
  const b = Buffer.alloc(1);
  fs.readSync(fd, b, 0, 1, offset);
  b[0] ^= 0x5a;
  fs.writeSync(fd, b, 0, 1, offset);
  fs.closeSync(fd);
}

async function writeLog(segmentBytes: number): Promise<string> {
  const dir = tempDir();
  dirs.push(dir);
  const s = await FileLogStorage.open(dir, { segmentBytes });
  for (let i = 1; i <= 30; i += 3) await s.save({ hardState: { term: 1, vote: "a", commit: i }, entries: entries(i, i + 2, 1, 40), snapshot: null });
  await s.close();
  return dir;
}

describe("corruption before the tail", () => {
  test("a flipped byte inside an earlier record rejects open with file and offset", async () => {
    const dir = await writeLog(1 << 20);
    const file = path.join(dir, segmentFiles(dir)[0]);
    const victim = records(file).filter((r) => r.type === RecordType.Entry)[4];
    flipByte(file, victim.offset + Math.floor((victim.end - victim.offset) / 2));
    await expect(FileLogStorage.open(dir)).rejects.toThrow(`${file} at byte offset ${victim.offset}`);
  });

  test("a garbled length field of an earlier record rejects open", async () => {
    const dir = await writeLog(1 << 20);
    const file = path.join(dir, segmentFiles(dir)[0]);
    const victim = records(file).filter((r) => r.type === RecordType.HardState)[2];
    flipByte(file, victim.offset + 5);
    await expect(FileLogStorage.open(dir)).rejects.toThrow(`${file} at byte offset ${victim.offset}`);
  });

  test("a flipped byte in a segment that is not the last rejects open, even in its last record", async () => {
    const dir = await writeLog(400);
    const files = segmentFiles(dir).map((n) => path.join(dir, n));
    expect(files.length).toBeGreaterThan(2);
    const middle = records(files[0])[1];
    flipByte(files[0], middle.offset + 12);
    await expect(FileLogStorage.open(dir)).rejects.toThrow(`${files[0]} at byte offset ${middle.offset}`);
    flipByte(files[0], middle.offset + 12);

    const tail = records(files[1]).at(-1)!;
    flipByte(files[1], tail.end - 1);
    await expect(FileLogStorage.open(dir)).rejects.toThrow(`${files[1]} at byte offset ${tail.offset}`);
    flipByte(files[1], tail.end - 1);
    const ok = await FileLogStorage.open(dir);
    expect(ok.lastIndex()).toBe(30);
    await ok.close();
  });

  test("a record damaged after open is reported by the read that meets it", async () => {
    const dir = await writeLog(1 << 20);
    const s = await FileLogStorage.open(dir, { cacheBytes: 0 });
    const file = path.join(dir, segmentFiles(dir)[0]);
    const victim = records(file).filter((r) => r.type === RecordType.Entry)[1];
    flipByte(file, victim.end - 3);
    expect(() => s.entries(1, 4, Infinity)).toThrow(`${file} at byte offset ${victim.offset}`);
    await s.close();
  });
});

describe("missing and leftover segment files", () => {
  test("segments left behind by an interrupted compaction are removed on open", async () => {
    const dir = await writeLog(400);
    const backup = tempDir();
    dirs.push(backup);
    const oldest = segmentFiles(dir)[0];
    fs.copyFileSync(path.join(dir, oldest), path.join(backup, oldest));
    const s = await FileLogStorage.open(dir, { segmentBytes: 400 });
    await s.compact({ index: 25, term: 1, conf: { voters: [], learners: [] } });
    await s.close();
    expect(segmentFiles(dir)).not.toContain(oldest);
    expect(segmentFiles(dir)[0]).not.toMatch(/^log-0+1-/);
    fs.copyFileSync(path.join(backup, oldest), path.join(dir, oldest));

    const logs: string[] = [];
    const r = await FileLogStorage.open(dir, { logger: (m) => logs.push(m) });
    expect(logs).toEqual([`removing leftover compacted segment ${path.join(dir, oldest)}`]);
    expect(r.firstIndex()).toBe(26);
    expect(r.lastIndex()).toBe(30);
    await r.close();
    expect(segmentFiles(dir)).not.toContain(oldest);
  });

  test("a missing middle segment rejects open and deletes nothing", async () => {
    const dir = await writeLog(400);
    const files = segmentFiles(dir);
    expect(files.length).toBeGreaterThan(3);
    fs.unlinkSync(path.join(dir, files[1]));
    await expect(FileLogStorage.open(dir)).rejects.toThrow(/gap/);
    expect(segmentFiles(dir)).toEqual(files.filter((_, i) => i !== 1));
  });
});
