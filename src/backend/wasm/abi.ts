// The module's ABI, declared once on this side: for each kernel, the export it calls and that export's
// parameters in order, named as the runner knows them (a call's arrays and scalars, its scratch regions,
// and `rows`, `total`, `zTotal`, `totals`). The loader checks each export's number of parameters
// against these lists, and the ABI version against assembly/index.ts's.
import type { Call, KernelName } from '../types.ts';

export interface Binding {
  export: string;
  params: readonly string[];
  /** Scratch regions the kernel needs, in bytes: for the whole call, and per row of a chunk. */
  scratch?(call: Call): { fixed?: Record<string, number>; perRow?: Record<string, number> };
  /** Scalars the kernel takes that are derived from the call's. */
  derived?(call: Call): Record<string, number>;
  /** How many running f64 totals the kernel adds its rows to (passed in as total and zTotal, written back
   *  at `totals`). */
  totals?: 1 | 2;
  /** A chunk's rows are a multiple of this (its last chunk aside). */
  align?: number;
}

/** Floats of scratch for class-strided (S > 1) inputs: blocks of B positions are gathered into B rows of C. */
const SCRATCH_FLOATS = 1 << 14;

/** Positions per gathered block of a class-strided input. */
function blockOf(C: number, S: number): number {
  return S === 1 ? 1 : Math.min(S, Math.max(4, Math.floor(SCRATCH_FLOATS / C)));
}

/** The gather scratch of a class-strided call: B rows of C floats for each of `rows` (x, and prob targets). */
function stridedScratch(call: Call, arrays: number): Record<string, number> {
  const { C, S } = call.scalars;
  return { scratch: S === 1 ? 0 : blockOf(C, S) * C * 4 * arrays };
}

const B = (call: Call) => ({ B: blockOf(call.scalars.C, call.scalars.S) });

/** Cross-entropy's scratch: gathered blocks, widened half-precision logits, the capped logits. */
function xentScratch(call: Call) {
  const { C, S, half, softcap } = call.scalars;
  return {
    fixed: stridedScratch(call, call.kernel === 'xent_prob' ? 2 : 1),
    perRow: { wide: half ? C * S * 4 : 0, capped: softcap ? C * S * 4 : 0 },
  };
}

const XENT_HEAD = ['x', 'target', 'weight', 'loss', 'grad', 'scales', 'rows', 'C', 'S', 'scratch', 'B', 'half', 'wide', 'softcap', 'capped'] as const;
const classOp = (name: string): Binding => ({
  export: name, params: ['x', 'out', 'rows', 'C', 'S', 'scratch', 'B'], scratch: (c) => ({ fixed: stridedScratch(c, 1) }), derived: B,
});
/** A backward op of the softmax family: the upstream gradient g, the forward's output or input y (and for
 *  logsumexp, optionally its result lse). */
const backwardOp = (name: string, ...extra: string[]): Binding => ({
  export: name, params: ['g', 'y', 'out', 'rows', 'C', 'S', 'scratch', 'B', ...extra], scratch: (c) => ({ fixed: c.arrays.lse ? {} : stridedScratch(c, 2) }), derived: B,
});

export const BINDINGS: Record<KernelName, Binding> = {
  xent_index: {
    export: 'xent_index_f32',
    params: [...XENT_HEAD, 'ignoreIndex', 'eps', 'wsum', 'gscale', 'logProbs', 'invT', 'zLoss', 'lse', 'entropy', 'total', 'zTotal', 'totals'],
    scratch: xentScratch, derived: B, totals: 2,
  },
  xent_prob: {
    export: 'xent_prob_f32',
    params: [...XENT_HEAD, 'eps', 'gscale', 'logProbs', 'invT', 'zLoss', 'total', 'zTotal', 'totals'],
    scratch: xentScratch, derived: B, totals: 2,
  },
  // BCE is elementwise: chunks of whole summation blocks (BCE_BLOCK); the chunk's first element reads
  // its cycles (last-axis weights) at `cycle0`
  bce: {
    export: 'bce_logits_f32',
    params: ['x', 'y', 'weight', 'posWeight', 'loss', 'grad', 'scales', 'rows', 'L', 'cycle0', 'wMode', 'gscale', 'total', 'totals'],
    totals: 1, align: 1024,
  },
  kl_div: {
    export: 'kl_div_f32', params: ['x', 'y', 'loss', 'grad', 'scales', 'rows', 'logTarget', 'gscale', 'total', 'totals'],
    totals: 1, align: 1024,
  },
  // distillation: rows of C classes, both models' logits widened a chunk at a time when 16-bit
  distill: {
    export: 'distill_f32',
    params: ['s', 't', 'labels', 'loss', 'grad', 'scales', 'rows', 'C', 'halfS', 'wideS', 'halfT', 'wideT', 'invT', 'mode', 'beta', 'alpha', 'gscale', 'eT', 'total', 'totals'],
    scratch: (c) => ({
      // the teacher's exponentials, for the gradient: one row, reused, so it stays in cache between passes
      fixed: { eT: c.arrays.grad && c.scalars.mode === 0 ? c.scalars.C * 4 : 0 },
      perRow: { wideS: c.scalars.halfS ? c.scalars.C * 4 : 0, wideT: c.scalars.halfT ? c.scalars.C * 4 : 0 },
    }),
    totals: 1,
  },
  logsumexp: classOp('logsumexp_f32'),
  log_softmax: classOp('log_softmax_f32'),
  softmax: classOp('softmax_f32'),
  softmin: classOp('softmin_f32'),
  log_softmax_backward: backwardOp('log_softmax_backward_f32'),
  softmax_backward: backwardOp('softmax_backward_f32'),
  logsumexp_backward: backwardOp('logsumexp_backward_f32', 'lse'),
};

/** The module's exports: its memory, its globals, and the kernels as BINDINGS calls them. */
export interface Exports {
  memory: WebAssembly.Memory;
  ABI_VERSION: WebAssembly.Global;
  BCE_BLOCK: WebAssembly.Global;
  heap_base(): number;
  [kernel: string]: unknown;
}

/** Throws unless every kernel's export takes the parameters BINDINGS lists (their number: wasm exports
 *  carry no names) and BCE's block is the one BINDINGS aligns to. */
export function checkBindings(ex: Exports): void {
  for (const b of Object.values(BINDINGS)) {
    const f = ex[b.export] as ((...a: number[]) => void) | undefined;
    if (typeof f !== 'function' || f.length !== b.params.length) {
      throw new Error(`xent.wasm: export ${b.export} takes ${typeof f === 'function' ? f.length : 'no'} parameters, the loader passes ${b.params.length}`);
    }
  }
  if (ex.BCE_BLOCK.value !== BINDINGS.bce.align) throw new Error(`xent.wasm: BCE_BLOCK is ${ex.BCE_BLOCK.value}, the loader aligns to ${BINDINGS.bce.align}`);
}
