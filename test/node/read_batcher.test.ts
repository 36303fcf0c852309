import { expect, test } from "bun:test";
import { ReadBatcher } from "../../src/node/read_batcher";

/** A fake Raft: each request gets the commit index at the time it was sent; the test answers them. */
function fakeRaft() {
  const pending: { sentAt: number; resolve(i: number): void; reject(e: unknown): void }[] = [];
  let commit = 0;
  const batcher = new ReadBatcher(
    () =>
      new Promise<number>((resolve, reject) => {
        pending.push({ sentAt: commit, resolve, reject });
      }),
  );
  return {
    batcher,
    pending,
    commitTo: (i: number) => (commit = i),
    answerNext: () => {
      const p = pending.shift()!;
      p.resolve(p.sentAt);
    },
    failNext: (err: unknown) => pending.shift()!.reject(err),
  };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

test("reads that arrive together share one request", async () => {
  const f = fakeRaft();
  f.commitTo(5);
  const reads = [f.batcher.next(), f.batcher.next(), f.batcher.next()];
  await tick();
  expect(f.pending.length).toBe(1);
  f.answerNext();
  expect(await Promise.all(reads)).toEqual([5, 5, 5]);
});

test("a read that arrives while a request is in flight waits for the next request", async () => {
  const f = fakeRaft();
  f.commitTo(5);
  const early = f.batcher.next();
  await tick();
  // A write commits and is acknowledged; then a read begins: it must see index >= 6.
  f.commitTo(6);
  const late = f.batcher.next();
  const late2 = f.batcher.next();
  await tick();
  expect(f.pending.length).toBe(1);
  f.answerNext();
  expect(await early).toBe(5);
  await tick();
  expect(f.pending.length).toBe(1);
  expect(f.pending[0].sentAt).toBe(6);
  f.answerNext();
  expect(await late).toBe(6);
  expect(await late2).toBe(6);
});

test("a failed request fails its batch only; the next batch goes ahead", async () => {
  const f = fakeRaft();
  const a = f.batcher.next();
  await tick();
  const b = f.batcher.next();
  f.failNext(new Error("no leader"));
  await expect(a).rejects.toThrow("no leader");
  await tick();
  f.commitTo(9);
  expect(f.pending.length).toBe(1);
  f.answerNext();
  expect(await b).toBe(0);
});
