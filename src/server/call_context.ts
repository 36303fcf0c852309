import type { HandlerContext } from "@connectrpc/connect";
import type { CallContext } from "../node/api";

/** The header a member sets when it forwards a call to the leader, so it is never forwarded twice. */
export const FORWARDED_HEADER = "rbkv-forwarded";

export function callContext(ctx: HandlerContext): CallContext {
  return { forwarded: ctx.requestHeader.get(FORWARDED_HEADER) === "1" };
}
