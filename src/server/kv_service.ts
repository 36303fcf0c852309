// Handlers of rbkv.v1.KV: validate the request, then hand it to the node with the call's signal.
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { KV, WatchRequest, WatchResponse } from "../gen/rbkv/v1/kv_pb";
import type { KvApi, Limits } from "../node/api";
import { callContext } from "./call_context";
import { untilAborted } from "./until_aborted";
import { validateDelete, validateGet, validatePut, validateRange, validateTxn, validateWatch } from "./validate";

export function createKvService(kv: KvApi, limits: Limits): ServiceImpl<typeof KV> {
  return {
    async get(req, ctx) {
      validateGet(req, limits);
      return kv.get(req, ctx.signal);
    },
    async range(req, ctx) {
      validateRange(req, limits);
      return kv.range(req, ctx.signal);
    },
    async put(req, ctx) {
      validatePut(req, limits);
      return kv.put(req, ctx.signal, callContext(ctx));
    },
    async delete(req, ctx) {
      validateDelete(req, limits);
      return kv.delete(req, ctx.signal, callContext(ctx));
    },
    async txn(req, ctx) {
      validateTxn(req, limits);
      return kv.txn(req, ctx.signal, callContext(ctx));
    },
    async *watch(req: WatchRequest, ctx: HandlerContext): AsyncGenerator<WatchResponse> {
      validateWatch(req, limits);
      yield* untilAborted(kv.watch(req, ctx.signal), ctx.signal);
    },
  };
}
