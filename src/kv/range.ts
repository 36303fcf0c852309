import { compareBytes } from "./bytes";
import { DATA_END, dataKey } from "./keys";

// etcd range_end semantics: empty = just `key`; "\0" = every key >= key; else [key, rangeEnd).

export function isSingleKey(rangeEnd: Uint8Array): boolean {
  return rangeEnd.length === 0;
}

function isOpenEnded(rangeEnd: Uint8Array): boolean {
  return rangeEnd.length === 1 && rangeEnd[0] === 0;
}

/** LevelDB bounds over data keys for a range (rangeEnd non-empty). */
export function dataBounds(key: Uint8Array, rangeEnd: Uint8Array): { gte: Uint8Array; lt: Uint8Array } {
  return { gte: dataKey(key), lt: isOpenEnded(rangeEnd) ? DATA_END : dataKey(rangeEnd) };
}

/** Does `candidate` fall in the range described by key/rangeEnd? */
export function inRange(candidate: Uint8Array, key: Uint8Array, rangeEnd: Uint8Array): boolean {
  if (isSingleKey(rangeEnd)) return compareBytes(candidate, key) === 0;
  if (compareBytes(candidate, key) < 0) return false;
  return isOpenEnded(rangeEnd) || compareBytes(candidate, rangeEnd) < 0;
}

export { prefixEnd } from "../shared/prefix_end";
