// Transactions for compare-and-swap:
//   client.txn().if(compare.value("k", "=", "v1")).then(op.put("k", "v2")).else(op.get("k")).commit()
import { create } from "@bufbuild/protobuf";
import {
  type Compare,
  CompareResult,
  CompareSchema,
  CompareTarget,
  type RequestOp,
  RequestOpSchema,
  type ResponseOp,
  type TxnRequest,
  TxnRequestSchema,
  type TxnResponse,
} from "../gen/rbkv/v1/kv_pb";
import { toBytes, type BytesLike } from "./bytes";
import { optionalKeyValue, responseInfo, type KeyValue, type ResponseInfo } from "./key_value";
import { deleteRequest, getRequest, prefixRequest, putRequest, type DeleteOptions, type PutOptions, type RangeOptions, type ReadOptions } from "./requests";
import { deleteResult, putResult, rangeResult, type DeleteResult, type PutResult, type RangeResult } from "./results";

export type CompareOperator = "=" | "==" | "!=" | ">" | "<";

const RESULT_OF: Record<CompareOperator, CompareResult> = {
  "=": CompareResult.EQUAL,
  "==": CompareResult.EQUAL,
  "!=": CompareResult.NOT_EQUAL,
  ">": CompareResult.GREATER,
  "<": CompareResult.LESS,
};

function resultOf(operator: CompareOperator): CompareResult {
  const r = RESULT_OF[operator];
  if (r === undefined) throw new TypeError(`unknown comparison "${String(operator)}"; use =, !=, > or <`);
  return r;
}

type Revisionish = number | bigint;

/** Conditions of a transaction. An absent key has version, create and mod revision 0 and no value. */
export const compare = {
  value(key: BytesLike, operator: CompareOperator, value: BytesLike): Compare {
    return create(CompareSchema, { key: toBytes(key), result: resultOf(operator), target: CompareTarget.VALUE, targetUnion: { case: "value", value: toBytes(value) } });
  },
  version(key: BytesLike, operator: CompareOperator, version: Revisionish): Compare {
    return create(CompareSchema, { key: toBytes(key), result: resultOf(operator), target: CompareTarget.VERSION, targetUnion: { case: "version", value: BigInt(version) } });
  },
  createRevision(key: BytesLike, operator: CompareOperator, revision: Revisionish): Compare {
    return create(CompareSchema, { key: toBytes(key), result: resultOf(operator), target: CompareTarget.CREATE, targetUnion: { case: "createRevision", value: BigInt(revision) } });
  },
  modRevision(key: BytesLike, operator: CompareOperator, revision: Revisionish): Compare {
    return create(CompareSchema, { key: toBytes(key), result: resultOf(operator), target: CompareTarget.MOD, targetUnion: { case: "modRevision", value: BigInt(revision) } });
  },
  /** The key exists (version > 0). */
  exists(key: BytesLike): Compare {
    return compare.version(key, ">", 0);
  },
  /** The key does not exist (version = 0). */
  missing(key: BytesLike): Compare {
    return compare.version(key, "=", 0);
  },
};

/** Operations inside a transaction. */
export const op = {
  get(key: BytesLike, options: ReadOptions = {}): RequestOp {
    return create(RequestOpSchema, { request: { case: "get", value: getRequest(key, options) } });
  },
  getPrefix(prefix: BytesLike, options: RangeOptions = {}): RequestOp {
    return create(RequestOpSchema, { request: { case: "range", value: prefixRequest(prefix, options) } });
  },
  put(key: BytesLike, value: BytesLike, options: PutOptions = {}): RequestOp {
    return create(RequestOpSchema, { request: { case: "put", value: putRequest(key, value, options) } });
  },
  delete(key: BytesLike, options: DeleteOptions = {}): RequestOp {
    return create(RequestOpSchema, { request: { case: "delete", value: deleteRequest(key, options) } });
  },
};

/** The result of one operation of a transaction, in the order given. */
export type TxnOpResult =
  | { type: "get"; kv: KeyValue | null }
  | ({ type: "range" } & RangeResult)
  | ({ type: "put" } & PutResult)
  | ({ type: "delete" } & DeleteResult);

export interface TxnResult extends ResponseInfo {
  /** Every compare held, so the `then` ops ran (else the `else` ops). */
  succeeded: boolean;
  results: TxnOpResult[];
}

function opResult(r: ResponseOp): TxnOpResult {
  switch (r.response.case) {
    case "get":
      return { type: "get", kv: optionalKeyValue(r.response.value.kv) };
    case "range":
      return { type: "range", ...rangeResult(r.response.value) };
    case "put":
      return { type: "put", ...putResult(r.response.value) };
    case "delete":
      return { type: "delete", ...deleteResult(r.response.value) };
    default:
      throw new Error("the server sent a transaction result of an unknown kind");
  }
}

export function txnResult(res: TxnResponse): TxnResult {
  return { ...responseInfo(res.header), succeeded: res.succeeded, results: res.responses.map(opResult) };
}

/** Collects compares and ops; `commit()` sends them as one Txn. */
export class TxnBuilder {
  private readonly compares: Compare[] = [];
  private readonly success: RequestOp[] = [];
  private readonly failure: RequestOp[] = [];

  constructor(private readonly send: (req: TxnRequest) => Promise<TxnResult>) {}

  if(...compares: Compare[]): this {
    this.compares.push(...compares);
    return this;
  }

  /** The ops to run when every compare holds. (Not a promise: `await` the result of `commit()`.) */
  then(...ops: RequestOp[]): this {
    if (ops.some((o) => typeof o === "function")) throw new TypeError("a transaction builder is not a promise: call .commit() and await that");
    this.success.push(...ops);
    return this;
  }

  else(...ops: RequestOp[]): this {
    this.failure.push(...ops);
    return this;
  }

  request(): TxnRequest {
    return create(TxnRequestSchema, { compare: this.compares, success: this.success, failure: this.failure });
  }

  commit(): Promise<TxnResult> {
    return this.send(this.request());
  }
}
