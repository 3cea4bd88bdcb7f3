// Whether each position's target is its row's argmax (greedy decoding would pick it: the first maximum,
// as argmax takes), and optionally its rank (how many classes score higher), read from the logits in JS.
// The temperature and the soft cap are increasing maps, so they change neither. A row stops being read at
// the first class that beats the target unless the rank is wanted: rows whose target is the argmax (most,
// for a good model) are read whole, one more pass over them than the kernel's.
import { Half, halfToFloat32, type HalfKind } from './half.ts';
import { IGNORED } from './backend/types.ts';

export function greedyOf(
  data: Float32Array | Uint16Array, half: Half, C: number, index: Int32Array, withRank: boolean,
): { isGreedy: Uint8Array; rank: Int32Array | null } {
  const n = index.length;
  const isGreedy = new Uint8Array(n), rank = withRank ? new Int32Array(n) : null;
  for (let i = 0; i < n; i++) {
    const t = index[i];
    if (t === IGNORED) { if (rank) rank[i] = -1; continue; }
    const row = half === Half.none
      ? (data as Float32Array).subarray(i * C, (i + 1) * C)
      : halfToFloat32((data as Uint16Array).subarray(i * C, (i + 1) * C), half as HalfKind);
    const xt = row[t];
    let above = 0, first = xt === xt; // a NaN target is nobody's argmax
    for (let c = 0; c < C; c++) {
      const v = row[c];
      if (v > xt || (v === xt && c < t)) {
        first = false;
        if (!rank) break;
        if (v > xt) above++;
      }
    }
    isGreedy[i] = first ? 1 : 0;
    if (rank) rank[i] = above;
  }
  return { isGreedy, rank };
}
