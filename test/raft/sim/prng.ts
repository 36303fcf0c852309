// Seeded pseudo-random numbers for the simulation. Every random choice in a run comes from a Rng
// derived from the seed, so a seed replays exactly.

import { mulberry32 } from "../../../src/shared/mulberry32";

/** splitmix32 finalizer: spreads a 32-bit value over all bits. */
function mix32(x: number): number {
  x = (x + 0x9e3779b9) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0;
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

function hashLabel(label: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Seeded choices (mulberry32 underneath): small, fast, good enough for scheduling decisions. */
export class Rng {
  private readonly base: number;
  /** A uniform float in [0, 1). */
  readonly next: () => number;

  constructor(seed: number) {
    this.base = mix32(seed >>> 0);
    this.next = mulberry32(this.base);
  }

  /** An integer in [lo, hi], both inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return p > 0 && this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error("pick from an empty list");
    return items[Math.floor(this.next() * items.length)];
  }

  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }

  /**
   * An independent stream named by `label`. It depends only on this Rng's seed and the label, not on
   * how many numbers were drawn so far, so adding draws elsewhere does not perturb it.
   */
  fork(label: string): Rng {
    return new Rng(mix32(this.base ^ hashLabel(label)));
  }
}
