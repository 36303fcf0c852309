// Bad input is refused with INVALID_ARGUMENT and a message naming the field and the limit, and
// never reaches the node: the fake store and its call log are unchanged afterwards.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { DescMessage, DescMethodUnary, MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { Cluster } from "../../src/gen/rbkv/v1/cluster_pb";
import { CompareResult, CompareTarget, Consistency, KV, type RequestOp } from "../../src/gen/rbkv/v1/kv_pb";
import { CLIENT_KINDS, makeClient, type RpcClient } from "./clients";
import { startHarness, TEST_LIMITS, type Harness } from "./harness";

const L = TEST_LIMITS;
const bytes = (n: number, fill = 0x61) => new Uint8Array(n).fill(fill);
const key = bytes(8);
const putOp = (k: Uint8Array, v = bytes(1)): MessageInitShape<typeof KV.method.put.input> & object => ({ key: k, value: v });
const okCompare = { key, target: CompareTarget.VERSION, result: CompareResult.EQUAL, targetUnion: { case: "version" as const, value: 0n } };
const ops = (n: number) => Array.from({ length: n }, () => ({ request: { case: "put" as const, value: putOp(key) } }));

interface BadCase {
  name: string;
  call: (c: RpcClient) => Promise<unknown>;
  message: string;
}

function bad<I extends DescMessage, O extends DescMessage>(
  name: string,
  method: DescMethodUnary<I, O>,
  req: MessageInitShape<I>,
  message: string,
): BadCase {
  return { name, call: (c) => c.unary(method, req), message };
}

const CASES: BadCase[] = [
  bad("Get: empty key", KV.method.get, { key: new Uint8Array() }, "key is empty"),
  bad("Get: key over the limit", KV.method.get, { key: bytes(L.maxKeyBytes + 1) }, `key is ${L.maxKeyBytes + 1} bytes; the limit is ${L.maxKeyBytes} (--max-key-bytes)`),
  bad("Get: unknown consistency", KV.method.get, { key, consistency: 7 as Consistency }, "consistency 7 is not a known Consistency"),
  bad("Range: range_end before key", KV.method.range, { key: bytes(4, 0x62), rangeEnd: bytes(4, 0x61) }, "range_end must sort after key"),
  bad("Range: range_end equal to key", KV.method.range, { key, rangeEnd: key }, "range_end must sort after key"),
  bad("Range: range_end over the limit", KV.method.range, { key, rangeEnd: bytes(L.maxKeyBytes + 1, 0x7a) }, "range_end is 65 bytes; the limit is 64 (--max-key-bytes)"),
  bad("Range: empty key, no range_end", KV.method.range, { key: new Uint8Array() }, "key is empty"),
  bad("Range: negative limit", KV.method.range, { key, limit: -1n }, "limit is -1; it must be >= 0"),
  bad("Put: empty key", KV.method.put, { key: new Uint8Array(), value: bytes(1) }, "key is empty"),
  bad("Put: key over the limit", KV.method.put, { key: bytes(L.maxKeyBytes + 1) }, "(--max-key-bytes)"),
  bad("Put: value over the limit", KV.method.put, { key, value: bytes(L.maxValueBytes + 1) }, `value is ${L.maxValueBytes + 1} bytes; the limit is ${L.maxValueBytes} (--max-value-bytes)`),
  bad("Put: negative ttl", KV.method.put, { key, ttl: { seconds: -5n } }, "ttl is negative"),
  bad("Put: ttl over ten years", KV.method.put, { key, ttl: { seconds: 400_000_000n } }, "the limit is 315360000s (10 years)"),
  bad("Delete: empty key", KV.method.delete, { key: new Uint8Array() }, "key is empty"),
  bad("Delete: range_end before key", KV.method.delete, { key: bytes(2, 0x63), rangeEnd: bytes(2, 0x62) }, "range_end must sort after key"),
  bad("Txn: too many ops", KV.method.txn, { success: ops(3), failure: ops(2) }, `txn has 5 ops in success and failure; the limit is ${L.maxTxnOps} (--max-txn-ops)`),
  bad("Txn: too many compares", KV.method.txn, { compare: Array(L.maxTxnOps + 1).fill(okCompare) }, "compares; the limit is 4 (--max-txn-ops)"),
  bad("Txn: op with oversized value", KV.method.txn, { success: [{ request: { case: "put", value: putOp(key, bytes(L.maxValueBytes + 1)) } }] }, "success[0].put.value is 1025 bytes; the limit is 1024 (--max-value-bytes)"),
  bad("Txn: failure op with empty key", KV.method.txn, { failure: [{ request: { case: "get", value: { key: new Uint8Array() } } }] }, "failure[0].get.key is empty"),
  bad("Txn: op that sets nothing", KV.method.txn, { success: [{} as RequestOp] }, "success[0] sets no operation"),
  bad("Txn: range op with negative limit", KV.method.txn, { success: [{ request: { case: "range", value: { key, limit: -2n } } }] }, "success[0].range.limit is -2"),
  bad("Txn: compare with unknown result", KV.method.txn, { compare: [{ ...okCompare, result: 99 as CompareResult }] }, "compare[0].result 99 is not a known CompareResult"),
  bad("Txn: compare with unspecified target", KV.method.txn, { compare: [{ ...okCompare, target: CompareTarget.UNSPECIFIED }] }, "compare[0].target 0 is not a known CompareTarget"),
  bad("Txn: compare with unknown target", KV.method.txn, { compare: [{ ...okCompare, target: 42 as CompareTarget }] }, "compare[0].target 42"),
  bad("Txn: compare target/value mismatch", KV.method.txn, { compare: [{ ...okCompare, target: CompareTarget.VALUE }] }, "target is VALUE so value must be set"),
  bad("Txn: compare with empty key", KV.method.txn, { compare: [{ ...okCompare, key: new Uint8Array() }] }, "compare[0].key is empty"),
  bad("MemberAdd: empty id", Cluster.method.memberAdd, { id: "", grpcAddr: "h:1", raftAddr: "h:2" }, "id is empty"),
  bad("MemberAdd: empty grpc_addr", Cluster.method.memberAdd, { id: "n9", raftAddr: "h:2" }, "grpc_addr is empty"),
  bad("MemberAdd: raft_addr without port", Cluster.method.memberAdd, { id: "n9", grpcAddr: "h:1", raftAddr: "h" }, "raft_addr \"h\" is not host:port"),
  bad("MemberRemove: empty id", Cluster.method.memberRemove, { id: "" }, "id is empty"),
  bad("MemberPromote: empty id", Cluster.method.memberPromote, { id: "" }, "id is empty"),
  bad("MemberList: unknown consistency", Cluster.method.memberList, { consistency: 5 as Consistency }, "consistency 5"),
  bad("TransferLeadership: id too long", Cluster.method.transferLeadership, { targetId: "x".repeat(300) }, "target_id is 300 characters; the limit is 256"),
];

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.server.close();
});

async function expectInvalid(p: Promise<unknown>, message: string): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConnectError);
  const ce = err as ConnectError;
  expect(Code[ce.code]).toBe(Code[Code.InvalidArgument]);
  expect(ce.rawMessage).toContain(message);
}

for (const kind of CLIENT_KINDS) {
  describe(`bad input via ${kind}`, () => {
    let c: RpcClient;
    beforeAll(() => {
      c = makeClient(kind, h.port);
    });
    afterAll(() => c.close());

    for (const bc of CASES) {
      test(bc.name, async () => {
        const before = h.kv.snapshotState();
        const calls = h.kv.log.calls.length + h.cluster.calls.length;
        await expectInvalid(bc.call(c), bc.message);
        expect(h.kv.snapshotState()).toBe(before);
        expect(h.kv.log.calls.length + h.cluster.calls.length).toBe(calls);
      });
    }

    test("Watch: negative start_revision is refused before the stream starts", async () => {
      const calls = h.kv.log.calls.length;
      const drain = async () => {
        for await (const _ of c.stream(KV.method.watch, { key, startRevision: -1n })) {
          // no events expected
        }
      };
      await expectInvalid(drain(), "start_revision is -1; it must be >= 0");
      expect(h.kv.log.calls.length).toBe(calls);
    });

    test("Watch: empty key without range_end", async () => {
      const drain = async () => {
        for await (const _ of c.stream(KV.method.watch, { key: new Uint8Array() })) {
          // no events expected
        }
      };
      await expectInvalid(drain(), "key is empty");
    });
  });
}

describe("accepted edge cases", () => {
  test("a key of exactly the limit, a value of exactly the limit, ttl 0, and \\0 range_end are fine", async () => {
    const c = makeClient("grpc-js", h.port);
    try {
      await c.unary(KV.method.put, { key: bytes(L.maxKeyBytes), value: bytes(L.maxValueBytes), ttl: { seconds: 0n } });
      const all = await c.unary(KV.method.range, { key: new Uint8Array(), rangeEnd: new Uint8Array([0]) });
      expect(all.count).toBeGreaterThan(0n);
      await c.unary(KV.method.txn, { success: ops(2), failure: ops(2) });
    } finally {
      c.close();
    }
  });
});
