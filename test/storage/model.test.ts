// Drives FileLogStorage and MemoryStorage (the model) through the same seeded random sequence of
// saves, snapshots, compactions and reopens, and compares every read after each step.

import { afterAll, describe, expect, test } from "bun:test";
import * as path from "node:path";
import { MemoryStorage } from "../../src/raft/memory_storage";
import type { Entry, HardState, SnapshotMeta } from "../../src/raft/types";
import { FileLogStorage, type FileLogStorageOptions } from "../../src/storage";
import { entry, plain, removeDir, rng, segmentFiles, tempDir } from "./helpers";

const root = tempDir();
afterAll(() => removeDir(root));

function compare(file: FileLogStorage, model: MemoryStorage, random: () => number): void {
  expect(file.firstIndex()).toBe(model.firstIndex());
  expect(file.lastIndex()).toBe(model.lastIndex());
  expect(file.snapshot()).toEqual(model.snapshot());
  expect(file.hardState()).toEqual(model.hardState());
  for (let i = model.firstIndex() - 1; i <= model.lastIndex(); i++) expect(file.term(i)).toBe(model.term(i));
  expect(() => file.term(model.lastIndex() + 1)).toThrow();
  const first = model.firstIndex();
  const end = model.lastIndex() + 1;
  expect(plain(file.entries(first, end, Infinity))).toEqual(plain(model.entries(first, end, Infinity)));
  for (let k = 0; k < 3 && first < end; k++) {
    const lo = first + Math.floor(random() * (end - first));
    const hi = lo + Math.floor(random() * (end - lo + 1));
    const maxBytes = Math.floor(random() * 400);
    expect(plain(file.entries(lo, hi, maxBytes))).toEqual(plain(model.entries(lo, hi, maxBytes)));
  }
}

async function run(seed: number, steps: number): Promise<void> {
  const random = rng(seed);
  const dir = path.join(root, `seed-${seed}`);
  const options: FileLogStorageOptions = { segmentBytes: 200 + Math.floor(random() * 3000), cacheBytes: Math.floor(random() * 2000) };
  const initial: SnapshotMeta = { index: 0, term: 0, conf: { voters: ["n1"], learners: [] } };
  let file = await FileLogStorage.open(dir, { ...options, initialSnapshot: initial });
  const model = new MemoryStorage(initial);
  let term = 1;
  let maxSegments = 0;

  for (let step = 0; step < steps; step++) {
    const p = random();
    if (p < 0.65) {
      let snapshot: SnapshotMeta | null = null;
      if (random() < 0.04) {
        term += 1;
        const index = model.snapshot().index + Math.floor(random() * (model.lastIndex() - model.snapshot().index + 6));
        snapshot = { index, term, conf: { voters: ["n1", `n${step}`], learners: random() < 0.5 ? [] : ["l1"] } };
      }
      const snapIndex = snapshot ? snapshot.index : model.snapshot().index;
      const last = snapshot ? snapshot.index : model.lastIndex();
      const batch: Entry[] = [];
      if (random() < 0.85) {
        // Mostly append at the end; sometimes overwrite a suffix with a higher term.
        let from = last + 1;
        if (random() < 0.2 && last > snapIndex) {
          from = snapIndex + 1 + Math.floor(random() * (last - snapIndex));
          term += 1;
        }
        const n = 1 + Math.floor(random() * (random() < 0.1 ? 40 : 6));
        for (let i = 0; i < n; i++) batch.push(entry(from + i, term, Math.floor(random() * 120), seed * 7 + step));
      }
      const hardState: HardState | null = random() < 0.6 ? { term, vote: random() < 0.5 ? "" : `n${Math.floor(random() * 5)}`, commit: step } : null;
      await file.save({ hardState, entries: batch, snapshot });
      if (snapshot) model.applySnapshot(snapshot);
      model.append(batch);
      if (hardState) model.setHardState(hardState);
    } else if (p < 0.8) {
      const lo = model.snapshot().index;
      const hi = model.lastIndex();
      if (hi > lo) {
        const index = lo + 1 + Math.floor(random() * (hi - lo));
        const meta: SnapshotMeta = { index, term: model.term(index), conf: { voters: ["n1"], learners: [`c${step}`] } };
        await file.compact(meta);
        model.compact(meta);
      }
    } else if (p < 0.9) {
      await file.close();
      file = await FileLogStorage.open(dir, options);
      expect(file.initialState()).toEqual(model.initialState());
    }
    compare(file, model, random);
    maxSegments = Math.max(maxSegments, segmentFiles(dir).length);
  }
  await file.close();
  // Compaction keeps the number of files bounded: the log never holds more than a few hundred
  // entries here, so hundreds of files would mean segments are never deleted.
  expect(maxSegments).toBeLessThan(steps / 2);
}

describe("FileLogStorage against the MemoryStorage model", () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    test(`seed ${seed}`, async () => {
      await run(seed, 250);
    }, 120_000);
  }
});
