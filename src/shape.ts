// Shapes of the cross-entropy family: the class axis is 1, or 0 when the input is 1-D (unbatched).

/** A well-formed shape: an array of non-negative safe integers. */
export function isShape(s: unknown): s is number[] {
  return Array.isArray(s) && s.every((d) => Number.isSafeInteger(d) && d >= 0);
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** The shape of the target positions: the input's shape without the class axis. */
export function positionShape(shape: readonly number[]): number[] {
  return shape.length > 1 ? [shape[0], ...shape.slice(2)] : [];
}

/** Where position r (= n * S + s) of an (N, C, S) layout starts: its classes are S apart from there. */
export function positionOffset(r: number, C: number, S: number): number {
  const s = r % S;
  return (r - s) * C + s;
}
