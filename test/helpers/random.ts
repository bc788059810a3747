/** Deterministic pseudo-random numbers in [0, 1), so a failing test reproduces. */
export function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1664525 + 1013904223) % 2 ** 32;
    return state / 2 ** 32;
  };
}
