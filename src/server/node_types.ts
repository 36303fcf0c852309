import type { connectNodeAdapter } from "@connectrpc/connect-node";

// connect-node does not export these names; derive them from its adapter.
export type NodeHandler = ReturnType<typeof connectNodeAdapter>;
export type NodeRequest = Parameters<NodeHandler>[0];
export type NodeResponse = Parameters<NodeHandler>[1];
