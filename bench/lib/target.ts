export { prefixEnd } from "../../src/shared/prefix_end";

/** A system under test, as the benchmark drives it. */
export interface BenchTarget {
  name: string;
  /** Client addresses, host:port. */
  endpoints: string[];
  leader(): Promise<string>;
  put(key: Uint8Array, value: Uint8Array): { path: string; body: Uint8Array };
  get(key: Uint8Array, serializable: boolean): { path: string; body: Uint8Array };
  /** A watch on a prefix: path, first request body, whether the request side stays open (bidi). */
  watch(prefix: Uint8Array): { path: string; body: Uint8Array; keepOpen: boolean };
  /** Number of events in one watch response message. */
  countEvents(message: Uint8Array): number;
  serverPids(): number[];
  stop(): Promise<void>;
}
