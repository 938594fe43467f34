/**
 * Code generation of the damped Levenberg-Marquardt solve, unrolled for the
 * number q of free parameters: every entry of the scaled normal matrix, its
 * L D L^T factors and the solution in local variables, no loops and no
 * index arithmetic. Built from the integer q alone.
 *
 * `solveStep(H, ho, G, go, D, dO, mu, blk, s)`: with `H[ho ..]` the packed
 * upper triangle of the normal matrix, `G[go ..]` the gradient, `D[dO ..]`
 * the column scales and `blk[a] !== 0` for a held parameter, solves
 * `(H + mu D^2) s = -g` over the parameters not held (0 where held; the
 * damped system of the column-scaled problem, `D^-1 H D^-1 + mu I`, without
 * forming it). Returns false when a pivot is not clearly positive relative
 * to `D^2` (mu must grow). `bounded: false` leaves out the held parameters.
 *
 * `quadForm(H, ho, s)` returns `s^T H s`.
 *
 * @module
 */

import { packedIndex } from "./_kernel_source.ts";

/** Largest q the solve is unrolled for; larger problems use loops. */
export const MAX_UNROLLED = 24;

function checkOrder(q: number): void {
  if (!Number.isInteger(q) || q < 1 || q > MAX_UNROLLED) {
    throw new RangeError(`unrolled solve: bad order ${q}`);
  }
}

/**
 * Source of `solveStep` for order q (a function expression).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { solveStepSource } from "./_step_source.ts";
 * const solve = new Function(`return ${solveStepSource(2)};`)();
 * // H = [[4, 2], [2, 2]], g = [-2, -1], D = 1, mu = 0: s = H^-1 (-g) = [0.5, 0].
 * const s = new Float64Array(2);
 * const ok = solve(new Float64Array([4, 2, 2]), 0, new Float64Array([-2, -1]), 0,
 *   new Float64Array([1, 1]), 0, 0, new Uint8Array(2), s);
 * assert.ok(ok && Math.abs(s[0] - 0.5) < 1e-15 && Math.abs(s[1]) < 1e-15);
 * ```
 */
export function solveStepSource(q: number, bounded = true): string {
  checkOrder(q);
  const L: string[] = [];
  // (H + mu D^2) s = -g: the same pivots as D^-1 H D^-1 + mu I, times D^2
  // (so the test on a pivot is relative to D^2), without the scaling.
  for (let a = 0; a < q; a++) {
    L.push(`const q${a} = D[dO + ${a}] * D[dO + ${a}];`);
    if (bounded) L.push(`const h${a} = blk[${a}] !== 0;`);
  }
  for (let r = 0; r < q; r++) {
    for (let c = 0; c <= r; c++) {
      const h = `H[ho + ${packedIndex(c, r, q)}]`;
      if (r === c) {
        const v = `${h} + mu * q${r}`;
        L.push(`let a${r}_${c} = ${bounded ? `h${r} ? q${r} : ${v}` : v};`);
      } else {
        L.push(
          `let a${r}_${c} = ${bounded ? `h${r} || h${c} ? 0 : ${h}` : h};`,
        );
      }
    }
    const g = `-G[go + ${r}]`;
    L.push(`let b${r} = ${bounded ? `h${r} ? 0 : ${g}` : g};`);
  }
  // L D L^T in place (a_r_c becomes l_r_c, unit diagonal; e_r_c = l_r_c
  // d_c on the way), id_j = 1 / d_j: no square roots on the critical path.
  for (let j = 0; j < q; j++) {
    let d = `a${j}_${j}`;
    for (let l = 0; l < j; l++) d += ` - e${j}_${l} * a${j}_${l}`;
    L.push(`const d${j} = ${d};`);
    L.push(`if (!(d${j} > 1e-14 * q${j})) return false;`);
    L.push(`const id${j} = 1 / d${j};`);
    for (let i = j + 1; i < q; i++) {
      let e = `a${i}_${j}`;
      for (let l = 0; l < j; l++) e += ` - e${i}_${l} * a${j}_${l}`;
      L.push(`const e${i}_${j} = ${e};`);
      L.push(`a${i}_${j} = e${i}_${j} * id${j};`);
    }
  }
  for (let i = 0; i < q; i++) {
    let t = `b${i}`;
    for (let l = 0; l < i; l++) t += ` - a${i}_${l} * b${l}`;
    L.push(`b${i} = ${t};`);
  }
  for (let i = q - 1; i >= 0; i--) {
    let t = `b${i} * id${i}`;
    for (let l = i + 1; l < q; l++) t += ` - a${l}_${i} * b${l}`;
    L.push(`b${i} = ${t};`);
  }
  for (let a = 0; a < q; a++) L.push(`s[${a}] = b${a};`);
  L.push("return true;");
  return `function solveStep(H, ho, G, go, D, dO, mu, blk, s) {\n  ${
    L.join("\n  ")
  }\n}`;
}

/**
 * Source of `quadForm` for order q (a function expression).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { quadFormSource } from "./_step_source.ts";
 * const quad = new Function(`return ${quadFormSource(2)};`)();
 * assert.strictEqual(quad(new Float64Array([4, 2, 2]), 0, new Float64Array([1, 1])), 10);
 * ```
 */
export function quadFormSource(q: number): string {
  checkOrder(q);
  const L: string[] = [];
  for (let a = 0; a < q; a++) L.push(`const s${a} = s[${a}];`);
  const terms: string[] = [];
  for (let a = 0; a < q; a++) {
    let off = "";
    for (let b = a + 1; b < q; b++) {
      off += `${off ? " + " : ""}H[ho + ${packedIndex(a, b, q)}] * s${b}`;
    }
    const diag = `H[ho + ${packedIndex(a, a, q)}] * s${a}`;
    terms.push(off ? `s${a} * (${diag} + 2 * (${off}))` : `s${a} * ${diag}`);
  }
  L.push(`return ${terms.join(" + ")};`);
  return `function quadForm(H, ho, s) {\n  ${L.join("\n  ")}\n}`;
}
