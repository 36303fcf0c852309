import { afterAll, expect, test } from "bun:test";
import { CompareResult as R, CompareTarget as T } from "../../src/gen/rbkv/v1/kv_pb";
import { Harness, cleanupDirs, cmp, dec, opDel, opGet, opPut, opRange } from "./helpers";

afterAll(cleanupDirs);

test("compare matrix on version, create, mod and value", async () => {
  const h = await Harness.create();
  await h.put("k", "m"); // rev 1
  await h.put("k", "m"); // rev 2: version 2, create 1, mod 2
  const cases: [T, R, bigint | string, boolean][] = [
    [T.VERSION, R.EQUAL, 2n, true],
    [T.VERSION, R.NOT_EQUAL, 2n, false],
    [T.VERSION, R.GREATER, 1n, true],
    [T.VERSION, R.LESS, 3n, true],
    [T.VERSION, R.LESS, 2n, false],
    [T.CREATE, R.EQUAL, 1n, true],
    [T.CREATE, R.GREATER, 1n, false],
    [T.MOD, R.EQUAL, 2n, true],
    [T.MOD, R.LESS, 2n, false],
    [T.MOD, R.GREATER, 1n, true],
    [T.VALUE, R.EQUAL, "m", true],
    [T.VALUE, R.NOT_EQUAL, "m", false],
    [T.VALUE, R.GREATER, "a", true],
    [T.VALUE, R.LESS, "z", true],
    [T.VALUE, R.LESS, "a", false],
  ];
  for (const [target, result, operand, expected] of cases) {
    const union =
      target === T.VALUE
        ? { case: "value" as const, value: new TextEncoder().encode(operand as string) }
        : target === T.VERSION
          ? { case: "version" as const, value: operand as bigint }
          : target === T.CREATE
            ? { case: "createRevision" as const, value: operand as bigint }
            : { case: "modRevision" as const, value: operand as bigint };
    const r = await h.txn([cmp("k", target, result, union)], []);
    expect([T[target], R[result], String(operand), r.succeeded]).toEqual([T[target], R[result], String(operand), expected]);
  }
  // A read-only Txn creates no revision.
  expect(h.store.revision()).toBe(2);
});

test("absent key: version 0; value compares are false", async () => {
  const h = await Harness.create();
  expect((await h.txn([cmp("nope", T.VERSION, R.EQUAL, { case: "version", value: 0n })], [])).succeeded).toBe(true);
  expect((await h.txn([cmp("nope", T.CREATE, R.EQUAL, { case: "createRevision", value: 0n })], [])).succeeded).toBe(true);
  expect((await h.txn([cmp("nope", T.VALUE, R.NOT_EQUAL, { case: "value", value: new Uint8Array([1]) })], [])).succeeded).toBe(false);
});

test("all compares must hold; success or failure ops run atomically with one revision", async () => {
  const h = await Harness.create();
  await h.put("a", "1");
  await h.put("b", "1");
  const ok = cmp("a", T.VALUE, R.EQUAL, { case: "value", value: new TextEncoder().encode("1") });
  const bad = cmp("b", T.VERSION, R.EQUAL, { case: "version", value: 5n });
  const r1 = await h.txn([ok, bad], [opPut("s", "yes")], [opPut("f", "no"), opPut("g", "no")]);
  expect(r1.succeeded).toBe(false);
  expect(r1.responses.map((r) => r.response.case)).toEqual(["put", "put"]);
  expect(h.value("s")).toBeUndefined();
  expect(h.value("f")).toBe("no");
  expect(h.store.get(new TextEncoder().encode("f"), 1000).kv?.modRevision).toBe(3n);
  expect(h.store.get(new TextEncoder().encode("g"), 1000).kv?.modRevision).toBe(3n);
  expect(r1.header?.revision).toBe(3n);

  const r2 = await h.txn([ok], [opPut("s", "yes"), opDel("a")]);
  expect(r2.succeeded).toBe(true);
  expect(h.value("s")).toBe("yes");
  expect(h.value("a")).toBeUndefined();
  expect(h.store.revision()).toBe(4);
  const page = await h.store.eventsSince(4, new Uint8Array(0), Uint8Array.of(0));
  expect(page.events.map((e) => dec(e.kv?.key))).toEqual(["s", "a"]);
});

test("reads inside a Txn see the Txn's earlier writes", async () => {
  const h = await Harness.create();
  await h.put("p/1", "old");
  const r = await h.txn([], [opGet("p/1"), opPut("p/1", "new"), opPut("p/2", "two"), opGet("p/1"), opRange("p/", "p0"), opDel("p/2"), opRange("p/", "p0")]);
  const values = r.responses.map((op) => {
    switch (op.response.case) {
      case "get":
        return dec(op.response.value.kv?.value);
      case "range":
        return op.response.value.kvs.map((kv) => `${dec(kv.key)}=${dec(kv.value)}`).join(",");
      default:
        return op.response.case;
    }
  });
  expect(values).toEqual(["old", "put", "put", "new", "p/1=new,p/2=two", "delete", "p/1=new"]);
  const kv = h.store.get(new TextEncoder().encode("p/1"), 1000).kv!;
  expect([kv.version, kv.modRevision]).toEqual([2n, 2n]);
  expect(h.value("p/2")).toBeUndefined();
});
