// The parameter block of a cross-entropy call, shared by the row kernels that read it (xent.ts, lanes.ts)
// and strided(), which hands it on.
/** A cross-entropy call's parameter block: its arrays and options as the row kernels read them, and the
 *  running totals they add their rows to. Written in full at the start of each call (one block per module:
 *  the kernels are not reentrant). The per-position arrays (target for index targets, loss, scales,
 *  lseOut, entOut) are N*S long, 0 when absent; a row kernel offsets them to its first row. */
@unmanaged export class XentArgs {
  target: usize;
  weight: usize;
  loss: usize;
  scales: usize;
  lseOut: usize;
  entOut: usize;
  ignoreIndex: i32;
  eps: f32;
  wsum: f32;
  gscale: f32;
  logProbs: i32;
  zLoss: f32;
  /** 1 / temperature, clamped (clamp_inv_t) */
  invT: f32;
  total: f64;
  zTotal: f64;
}
