import { afterAll, expect, test } from "bun:test";
import { KvStore } from "../../src/kv/store";
import { Harness, cleanupDirs, enc } from "./helpers";

afterAll(cleanupDirs);

const ctx = (s: string) => new TextEncoder().encode(s);

test("applied index, term, revision and membership survive reopen", async () => {
  const h = await Harness.create();
  await h.confChange({ kind: "addVoter", node: "n1", context: ctx('{"grpcAddr":"a1"}') }, { voters: ["n1"], learners: [] });
  await h.confChange({ kind: "addLearner", node: "n2", context: ctx('{"grpcAddr":"a2"}') }, { voters: ["n1"], learners: ["n2"] });
  await h.confChange({ kind: "promote", node: "n2", context: new Uint8Array(0) }, { voters: ["n1", "n2"], learners: [] });
  await h.confChange({ kind: "addVoter", node: "n3", context: ctx("c3") }, { voters: ["n1", "n2", "n3"], learners: [] });
  const [removed] = await h.confChange({ kind: "remove", node: "n3", context: new Uint8Array(0) }, { voters: ["n1", "n2"], learners: [] });
  expect(removed.kind).toBe("confChange");
  await h.put("k", "v");
  await h.store.applyEntries([{ index: ++h.index, term: 7, type: 0, data: new Uint8Array(0) }]);
  await h.store.close();

  const store = await KvStore.open(h.dir);
  expect(store.appliedIndex()).toBe(7);
  expect(store.appliedTerm()).toBe(7);
  expect(store.revision()).toBe(1);
  const m = store.conf();
  expect(m.conf).toEqual({ voters: ["n1", "n2"], learners: [] });
  expect(Object.keys(m.contexts).sort()).toEqual(["n1", "n2"]);
  expect(new TextDecoder().decode(m.contexts.n2)).toBe('{"grpcAddr":"a2"}');
  expect(store.snapshotMeta()).toMatchObject({ index: 7, term: 7, conf: { voters: ["n1", "n2"], learners: [] } });

  // Re-applying entries at or below the applied index is a no-op.
  h.store = store;
  h.index = 5;
  const again = await h.store.applyEntries([h.entry(null), { index: 7, term: 7, type: 0, data: new Uint8Array(0) }]);
  expect(again).toEqual([]);
  expect(store.get(enc("k"), 1000).kv?.version).toBe(1n);
  // A gap is a bug in the caller.
  await expect(store.applyEntries([{ index: 9, term: 7, type: 0, data: new Uint8Array(0) }])).rejects.toThrow();
  await store.close();
});

test("sync() waits for queued applies and leaves the store usable", async () => {
  const h = await Harness.create();
  const pending = h.put("a", "1");
  await h.store.sync();
  await pending;
  expect(h.value("a")).toBe("1");
  await h.store.close();
  const reopened = await KvStore.open(h.dir);
  expect(reopened.appliedIndex()).toBe(1);
  await reopened.close();
});
