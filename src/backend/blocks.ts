// Reduction blocks. A loss's total is the sum of its rows' losses; it is added up in fixed blocks of rows,
// each block in row order from 0, then the blocks' sums in order. The blocks depend on the call's shape
// alone (never on chunking, memory or threads), so a pool that runs blocks on different workers and adds
// their sums in the same order gets the synchronous call's bits.
import type { Call, CallResult, KernelName } from './types.ts';

/** Floats of the widest per-row array in a block: a multiple of the elementwise kernels' summation block
 *  (abi.ts's align), so that a block of elements is whole summation blocks. */
export const BLOCK_FLOATS = 1 << 18;

/** The kernels whose result has totals (a sum over rows). */
const SUMMED: ReadonlySet<KernelName> = new Set<KernelName>(['xent_index', 'xent_prob', 'bce', 'kl_div', 'distill']);

/** Whether a kernel's result includes a sum over its rows. */
export const summed = (kernel: KernelName): boolean => SUMMED.has(kernel);

/** Rows per block of a call: BLOCK_FLOATS over its widest per-row array, at least 1. */
export function blockRows(call: Call): number {
  let per = 1;
  for (const name in call.arrays) {
    const a = call.arrays[name];
    if (a && (a.role === 'in' || a.role === 'out')) per = Math.max(per, a.per);
  }
  return Math.max(1, Math.floor(BLOCK_FLOATS / per));
}

/** Rows [r0, r1) of a call as a call of their own: per-row arrays as views, fixed arrays as they are,
 *  cycles rotated to start at row r0's element. */
export function sliceCall(call: Call, r0: number, r1: number): Call {
  const arrays: Call['arrays'] = {};
  for (const name in call.arrays) {
    const a = call.arrays[name];
    if (a === null || a.role === 'fixed') arrays[name] = a;
    else if (a.role === 'cycle') {
      const k = r0 % a.period, data = new Float32Array(a.period);
      data.set(a.data.subarray(k, a.period));
      data.set(a.data.subarray(0, k), a.period - k);
      arrays[name] = { ...a, data };
    } else arrays[name] = { ...a, data: a.data.subarray(r0 * a.per, r1 * a.per) };
  }
  return { ...call, rows: r1 - r0, arrays };
}

/** Rows [r0, r1) of a summed call (r0 a block's start), run a reduction block at a time: each block's
 *  total and z-loss total, in order. */
export function blockTotals(run: (call: Call) => CallResult, call: Call, r0: number, r1: number): Float64Array {
  const block = blockRows(call), totals = new Float64Array(2 * Math.ceil((r1 - r0) / block));
  for (let b = r0, i = 0; b < r1; b += block, i += 2) {
    const res = run(sliceCall(call, b, Math.min(r1, b + block)));
    totals[i] = res.total;
    totals[i + 1] = res.zTotal;
  }
  return totals;
}

/** The blocks' totals (blockTotals' lists, in block order) added in that order: the call's totals. */
export function addTotals(lists: readonly Float64Array[]): { total: number; zTotal: number } {
  let total = 0, zTotal = 0;
  for (const totals of lists) {
    for (let i = 0; i < totals.length; i += 2) {
      total += totals[i];
      zTotal += totals[i + 1];
    }
  }
  return { total, zTotal };
}
