import { mapKey } from "./bytes";
import type { StoredKv } from "./record";

/**
 * What the last applied batches wrote for their keys (a deleted key as null), so that applying
 * the next write to a hot key needs no LevelDB read for its previous version. Bounded by entries
 * and by value bytes; large values are not kept. Only the apply path fills it, in the same order as
 * the database, and a snapshot install clears it.
 */
export class RecentKeys {
  private readonly map = new Map<string, StoredKv | null>();
  private bytes = 0;

  constructor(
    private readonly maxEntries = 16_384,
    private readonly maxBytes = 16 << 20,
    private readonly maxValueBytes = 64 << 10,
  ) {}

  /** The key's stored value (null: deleted), or undefined when it is not known here. */
  get(key: string): StoredKv | null | undefined {
    return this.map.get(key);
  }

  /** Records what a committed batch wrote. */
  remember(writes: Iterable<{ key: Uint8Array; kv: StoredKv | null; mapKey?: string }>): void {
    for (const { key, kv, mapKey: known } of writes) {
      const k = known ?? mapKey(key);
      this.forget(k);
      if (kv && kv.value.length > this.maxValueBytes) continue;
      // Copy the value: it may be a view into a much larger received frame that must not stay alive.
      this.map.set(k, kv ? { ...kv, value: kv.value.slice() } : null);
      this.bytes += kv ? kv.value.length : 0;
    }
    for (const oldest of this.map.keys()) {
      if (this.map.size <= this.maxEntries && this.bytes <= this.maxBytes) break;
      this.forget(oldest);
    }
  }

  clear(): void {
    this.map.clear();
    this.bytes = 0;
  }

  private forget(k: string): void {
    const old = this.map.get(k);
    if (old === undefined) return;
    this.bytes -= old ? old.value.length : 0;
    this.map.delete(k);
  }
}
