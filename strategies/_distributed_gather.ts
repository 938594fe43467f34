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

import type { PartialLinearization } from "../core/cpu_evaluator.ts";
import { mergeTriangularFactors } from "../core/linalg.ts";

/** Doubles one rank contributes for one evaluation point. */
export function slotLength(p: number, withJac: boolean): number {
  const c = p + 1;
  return 1 + (withJac ? (c * (c + 1)) / 2 : 0);
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
    let o = off + rank * len;
    const bad = !Number.isFinite(part.cost) || (withJac[i] && !part.aug);
    buf[o++] = bad ? NaN : part.cost;
    if (withJac[i] && !bad) {
      const aug = part.aug!;
      for (let r = 0; r < c; r++) {
        for (let k = r; k < c; k++) buf[o++] = aug[r * c + k];
      }
    }
    off += size * len;
  });
  return buf;
}

/**
 * Reads every rank's slots of a summed buffer and merges them in rank order:
 * costs summed, factors merged by TSQR. Deterministic, so identical inputs
 * give bit-identical outputs on every rank.
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
      const factors: Float64Array[] = [];
      for (let r = 0; r < size; r++) {
        const f = new Float64Array(c * c);
        let o = off + r * len + 1;
        for (let i = 0; i < c; i++) {
          for (let k = i; k < c; k++) f[i * c + k] = buf[o++];
        }
        factors.push(f);
      }
      if (gram) {
        // Gram sums add (in rank order, so every rank gets the same bits).
        const g = factors[0];
        for (let r = 1; r < size; r++) {
          for (let k = 0; k < g.length; k++) g[k] += factors[r][k];
        }
        out.push({ cost, aug: g, gram: true });
      } else {
        out.push({
          cost,
          // As mergePartials: one factor is already the answer.
          aug: size === 1 ? factors[0] : mergeTriangularFactors(factors, c),
        });
      }
    }
    off += size * len;
  }
  return out;
}

/**
 * Rebuilds the upper triangle of the Gram matrix of `[J f]` from a normal
 * linearization (the f^T f entry is left 0: the cost travels separately).
 */
export function gramFromNormal(
  jtj: Float64Array,
  jtf: Float64Array,
  p: number,
): Float64Array {
  const c = p + 1;
  const g = new Float64Array(c * c);
  for (let i = 0; i < p; i++) {
    for (let j = i; j < p; j++) g[i * c + j] = jtj[i * p + j];
    g[i * c + p] = jtf[i];
  }
  return g;
}

/**
 * Rebuilds a partial factor of `[J f]` from a QR linearization (R, Q^T f).
 * The bottom-right entry (the norm of the part of f outside range(J)) is
 * left 0: it never influences the R and Q^T f of a merge (Householder
 * reflections for columns 0..p-1 leave rows that are zero there untouched),
 * and the cost travels separately.
 */
export function augFromQr(
  r: Float64Array,
  qtf: Float64Array,
  p: number,
): Float64Array {
  const c = p + 1;
  const aug = new Float64Array(c * c);
  for (let i = 0; i < p; i++) {
    for (let j = i; j < p; j++) aug[i * c + j] = r[i * p + j];
    aug[i * c + p] = qtf[i];
  }
  return aug;
}
