/**
 * The smallest key greater than every key starting with `prefix` (etcd's range_end for a prefix);
 * "\0" (every key) for an empty or all-0xff prefix. Shared by the server, the client and tools.
 */
export function prefixEnd(prefix: Uint8Array): Uint8Array {
  const end = Uint8Array.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] < 0xff) {
      end[i]++;
      return end.subarray(0, i + 1);
    }
  }
  return Uint8Array.of(0);
}
