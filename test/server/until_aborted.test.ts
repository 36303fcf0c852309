import { expect, test } from "bun:test";
import { untilAborted } from "../../src/server/until_aborted";

test("stops a source that ignores the signal, and closes it once it yields again", async () => {
  let closed = false;
  let release = (): void => {};
  async function* stubborn() {
    try {
      yield 1;
      await new Promise<void>((r) => (release = r));
      yield 2;
    } finally {
      closed = true;
    }
  }
  const ac = new AbortController();
  const seen: number[] = [];
  const done = (async () => {
    for await (const v of untilAborted(stubborn(), ac.signal)) seen.push(v);
  })();
  await Bun.sleep(10);
  ac.abort();
  await done; // returns at once although the source is still blocked
  expect(seen).toEqual([1]);
  release();
  await Bun.sleep(10);
  expect(closed).toBe(true);
});

test("passes every item of a source that ends by itself", async () => {
  async function* three() {
    yield* [1, 2, 3];
  }
  const out: number[] = [];
  for await (const v of untilAborted(three(), new AbortController().signal)) out.push(v);
  expect(out).toEqual([1, 2, 3]);
});
