/**
 * Combining per-rank partial linearizations into the linearization of all
 * the data, identically on every rank.
 *
 * QR factors do not add, so the ranks cannot simply `MPI_Allreduce` them.
 * Instead every rank writes its cost and the upper triangle of its
 * (p+1) x (p+1) factor of `[J f]` into its own slot of a zero-filled array,
 * the arrays are summed (an allgather built from Allreduce: each slot has
 * one non-zero contributor, and `x + 0 === x` exactly, so every rank receives
 * bit-exact copies of every factor), and every rank merges the factors in
 * rank order with the same TSQR code. The merged result is therefore
 * bit-identical on all ranks without a broadcast, and as accurate as a
 * single-process QR (no normal equations).
 *
 * @module
 */

import {
  mergeAugmented,
  packUpper,
  type PartialLinearization,
  unpackUpper,
  upperLength,
} from "../core/_linearization_forms.ts";

/** Doubles one rank contributes for one evaluation point. */
export function slotLength(p: number, withJac: boolean): number {
  return 1 + (withJac ? upperLength(p + 1) : 0);
}

/**
 * Length of the gather buffer for `withJac.length` points on `size` ranks.
 */
export function gatherLength(
  p: number,
  size: number,
  withJac: readonly boolean[],
): number {
  let n = 0;
  for (const j of withJac) n += size * slotLength(p, j);
  return n;
}

/**
 * Writes this rank's partials into its slots of a zero-filled buffer.
 * Layout, point after point: `size` slots of `[cost, upper triangle of aug
 * row by row]`. A point whose cost is not finite (or whose factor is
 * missing) writes NaN as its cost, so the sum is NaN on every rank.
 */
export function packPartials(
  parts: readonly PartialLinearization[],
  withJac: readonly boolean[],
  p: number,
  rank: number,
  size: number,
): Float64Array {
  const c = p + 1;
  const buf = new Float64Array(gatherLength(p, size, withJac));
  let off = 0;
  parts.forEach((part, i) => {
    const len = slotLength(p, withJac[i]);
    const o = off + rank * len;
    const bad = !Number.isFinite(part.cost) || (withJac[i] && !part.aug);
    buf[o] = bad ? NaN : part.cost;
    if (withJac[i] && !bad) packUpper(part.aug!, c, buf, o + 1);
    off += size * len;
  });
  return buf;
}

/**
 * Reads every rank's slots of a summed buffer and merges them in rank order:
 * costs summed, factors merged by TSQR (Gram sums, with `gram`, added).
 * Deterministic, so identical inputs give bit-identical outputs on every
 * rank.
 */
export function mergeGathered(
  buf: Float64Array,
  withJac: readonly boolean[],
  p: number,
  size: number,
  gram = false,
): PartialLinearization[] {
  const c = p + 1;
  const out: PartialLinearization[] = [];
  let off = 0;
  for (const jac of withJac) {
    const len = slotLength(p, jac);
    let cost = 0;
    for (let r = 0; r < size; r++) cost += buf[off + r * len];
    if (!Number.isFinite(cost)) out.push({ cost: NaN, aug: null });
    else if (!jac) out.push({ cost, aug: null });
    else {
      const augs: Float64Array[] = [];
      for (let r = 0; r < size; r++) {
        augs.push(unpackUpper(buf, off + r * len + 1, c));
      }
      // In rank order, as mergePartials: every rank gets the same bits.
      const aug = mergeAugmented(augs, p, gram);
      out.push(gram ? { cost, aug, gram } : { cost, aug });
    }
    off += size * len;
  }
  return out;
}
