// Seeded PRNG for reproducible draws: the published seed string is hashed with sha256 and the 256
// bits become the state of xoshiro256** (Blackman & Vigna). Same seed → same sequence, on any
// machine, because everything is 64-bit integer arithmetic on BigInt.
import { createHash } from 'node:crypto';

const MASK = (1n << 64n) - 1n;

function rotl(x: bigint, k: bigint): bigint {
  return ((x << k) | (x >> (64n - k))) & MASK;
}

export interface Prng {
  /** Next 64-bit output as an unsigned BigInt. */
  nextU64(): bigint;
  /** Uniform in [0, 1) with 53 bits of precision. */
  nextFloat(): number;
  /** Uniform integer in [0, n), without modulo bias. */
  nextInt(n: number): number;
}

/** The state the seed string maps to: sha256(seed) read as four big-endian 64-bit words. */
export function seedState(seed: string): [bigint, bigint, bigint, bigint] {
  const digest = createHash('sha256').update(seed, 'utf8').digest();
  const s = [0, 8, 16, 24].map((o) => digest.readBigUInt64BE(o)) as [bigint, bigint, bigint, bigint];
  // An all-zero state would output zeros forever; sha256 makes that practically impossible, but be exact.
  if (s.every((x) => x === 0n)) s[0] = 1n;
  return s;
}

export function seededPrng(seed: string): Prng {
  return xoshiro256starstar(seedState(seed));
}

/** xoshiro256** from an explicit state (copied, not mutated). */
export function xoshiro256starstar(initial: readonly [bigint, bigint, bigint, bigint]): Prng {
  const state: [bigint, bigint, bigint, bigint] = [initial[0], initial[1], initial[2], initial[3]];

  function nextU64(): bigint {
    const result = (rotl((state[1] * 5n) & MASK, 7n) * 9n) & MASK;
    const t = (state[1] << 17n) & MASK;
    state[2] ^= state[0];
    state[3] ^= state[1];
    state[1] ^= state[2];
    state[0] ^= state[3];
    state[2] ^= t;
    state[3] = rotl(state[3], 45n);
    return result;
  }

  function nextFloat(): number {
    return Number(nextU64() >> 11n) / 2 ** 53;
  }

  function nextInt(n: number): number {
    if (!Number.isSafeInteger(n) || n <= 0)
      throw new RangeError(`nextInt needs a positive integer, got ${n}`);
    const bn = BigInt(n);
    // Reject the top partial range so every residue is equally likely.
    const limit = MASK + 1n - ((MASK + 1n) % bn);
    for (;;) {
      const x = nextU64();
      if (x < limit) return Number(x % bn);
    }
  }

  return { nextU64, nextFloat, nextInt };
}
