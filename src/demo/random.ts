// A small seeded PRNG so the demo data is identical for the same seed on every machine and Node version.
// Hand-written (a few lines) because Math.random cannot be seeded and a dependency would be overkill.

export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [min, max] inclusive. */
  int(min: number, max: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** Index drawn with probability proportional to `weights[i]`, using precomputed cumulative weights. */
  weighted(cumulative: Float64Array): number;
  /** Upper-case UUID-shaped string (version 4 layout), reproducible from the seed. */
  uuid(): string;
}

/** mulberry32: 32-bit state, good enough statistically for synthetic data and very fast. */
export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const hex32 = (): string =>
    Math.floor(next() * 4294967296)
      .toString(16)
      .padStart(8, "0");
  const random: Random = {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    chance: (p) => next() < p,
    pick: (items) => {
      if (items.length === 0) throw new Error("pick from an empty list");
      return items[Math.floor(next() * items.length)] as (typeof items)[number];
    },
    weighted: (cumulative) => {
      const total = cumulative[cumulative.length - 1] ?? 0;
      const target = next() * total;
      let low = 0;
      let high = cumulative.length - 1;
      while (low < high) {
        const mid = (low + high) >>> 1;
        if ((cumulative[mid] ?? 0) > target) high = mid;
        else low = mid + 1;
      }
      return low;
    },
    uuid: () => {
      const h = hex32() + hex32() + hex32() + hex32();
      const variant = "89ab"[Number.parseInt(h[16] ?? "0", 16) & 3];
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`.toUpperCase();
    },
  };
  return random;
}

/** Cumulative sums of weights, for `Random.weighted`. */
export function cumulativeWeights(weights: readonly number[]): Float64Array {
  const out = new Float64Array(weights.length);
  let sum = 0;
  weights.forEach((w, i) => {
    sum += w;
    out[i] = sum;
  });
  return out;
}
