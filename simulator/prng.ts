/**
 * Seeded randomness for the simulator. Everything it generates must be a pure function of the seed
 * (so a failing verify can be replayed), hence no Math.random anywhere in `simulator/`.
 */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [lo, hi] (both inclusive). */
  int(lo: number, hi: number): number;
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** Exponential with the given mean (Poisson inter-arrival times). */
  exp(mean: number): number;
  /** Triangular on [min, max] with the given mode, rounded to an integer. */
  triangular(min: number, mode: number, max: number): number;
  /** Log-uniform integer in [lo, hi]: many small values, a few very large ones. */
  logUniform(lo: number, hi: number): number;
}

/** mulberry32: 32-bit state, fast, statistically fine for a simulation (not for cryptography). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Derive an independent seed for a named stream, so that e.g. changing fault rates does not change
 * the machining events themselves (each concern draws from its own stream).
 */
export function deriveSeed(seed: number, stream: string): number {
  let h = 0x811c9dc5;
  const text = `${seed}:${stream}`;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export function createRng(seed: number): Rng {
  const next = mulberry32(seed);
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    chance: (p) => next() < p,
    pick: (items) => items[Math.floor(next() * items.length)],
    exp: (mean) => -mean * Math.log(1 - next()),
    triangular(min, mode, max) {
      const u = next();
      const split = (mode - min) / (max - min);
      const v =
        u < split
          ? min + Math.sqrt(u * (max - min) * (mode - min))
          : max - Math.sqrt((1 - u) * (max - min) * (max - mode));
      return Math.round(v);
    },
    logUniform: (lo, hi) =>
      Math.min(hi, Math.floor(Math.exp(Math.log(lo) + next() * (Math.log(hi + 1) - Math.log(lo))))),
  };
}
