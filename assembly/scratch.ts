// The kernels' working memory between loops (block records, a row's statistics, a group's sums, the
// transposed lanes, the arguments' record): small regions each module keeps as static data. An instance
// alone uses them where the data section put them. Instances that share one memory (the threads build,
// one per pool worker) would overwrite each other's, so each worker first moves them into a region of
// its own: place_scratch, before each call.
import { BLOCKS_SCRATCH, place_blocks } from "./blocks";
import { DISTILL_SCRATCH, place_distill } from "./distill";
import { GROUP_SCRATCH, place_group } from "./group";
import { LANES_SCRATCH, place_lanes } from "./lanes";
import { LAYOUT_SCRATCH, place_layout } from "./layout";
import { XENT_SCRATCH, place_xent } from "./xent";
import { ZLOSS_SCRATCH, place_zloss } from "./zloss";

/** Bytes place_scratch takes (a multiple of 16). */
export function scratch_bytes(): usize {
  return BLOCKS_SCRATCH + DISTILL_SCRATCH + GROUP_SCRATCH + LANES_SCRATCH + LAYOUT_SCRATCH + XENT_SCRATCH + ZLOSS_SCRATCH;
}

/** Moves every module's scratch into scratch_bytes() bytes at p (16-byte aligned), one region after another. */
export function place_scratch(p: usize): void {
  place_zloss(place_xent(place_layout(place_lanes(place_group(place_distill(place_blocks(p)))))));
}
