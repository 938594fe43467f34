/**
 * Code generation of one Levenberg-Marquardt iteration (`computeStep` and
 * `iterateFit` of `_lm_chunk.ts`, same contract and arithmetic) unrolled
 * for a problem's free parameters: their indices, the packed offsets and
 * whether there are bounds are literals, every per-parameter quantity a
 * local. The generic functions stay for orders beyond the unrolled ones.
 * Built from integers and a flag only.
 *
 * @module
 */

import { packedIndex } from "./_kernel_source.ts";
import { MAX_UNROLLED } from "./_step_source.ts";

/** The shape of the problem the iteration is generated for. */
export interface IterateSpec {
  /** Number of model parameters. */
  readonly nParams: number;
  /** Indices of the free parameters. */
  readonly free: readonly number[];
  /** Whether the problem has bounds. */
  readonly bounded: boolean;
}

function checkSpec(s: IterateSpec): void {
  const q = s.free.length;
  if (!(q >= 1 && q <= MAX_UNROLLED)) {
    throw new RangeError(`unrolled iteration: bad order ${q}`);
  }
  for (const j of s.free) {
    if (!Number.isInteger(j) || j < 0 || j >= s.nParams) {
      throw new RangeError(`unrolled iteration: bad parameter index ${j}`);
    }
  }
}

function computeStepSource(s: IterateSpec): string {
  const { free, bounded } = s;
  const p = s.nParams, q = free.length;
  const fixed = [...Array(p).keys()].filter((j) => !free.includes(j));
  const L: string[] = [
    `const to = k * ${p}, ho = k * ${(q * (q + 1)) / 2}, go = k * ${q};`,
    "const th = E.th, G = E.Gc, H = E.Hc, st = E.st, tt = E.tt, blk = E.blk;",
  ];
  if (bounded) {
    L.push(
      "const lower = E.lower, upper = E.upper;",
      `const bo = E.boundsPerFit ? (E.base + k) * ${p} : 0;`,
    );
  }
  free.forEach((j, a) => {
    L.push(`const t${a} = th[to + ${j}], g${a} = G[go + ${a}];`);
    if (bounded) {
      L.push(
        `const lo${a} = lower[bo + ${j}], up${a} = upper[bo + ${j}];`,
        // The active set: at a bound that the gradient pushes out.
        `blk[${a}] = (t${a} <= lo${a} && g${a} > 0) || (t${a} >= up${a} && g${a} < 0) ? 1 : 0;`,
      );
    }
  });
  const body: string[] = [
    "const mu = E.mu[k];",
    "if (!E.solveStep(H, ho, G, go, E.Dg, go, mu, blk, st)) {",
    "  E.mu[k] = mu * 10 > 1e-12 ? mu * 10 : 1e-12;",
    "  continue;",
    "}",
    ...fixed.map((j) => `tt[${j}] = th[to + ${j}];`),
  ];
  free.forEach((j, a) => {
    body.push(`let v${a} = t${a} + st[${a}];`);
    if (bounded) {
      body.push(
        `if (v${a} < lo${a}) v${a} = lo${a};`,
        `else if (v${a} > up${a}) v${a} = up${a};`,
      );
    }
    body.push(
      `tt[${j}] = v${a};`,
      `const s${a} = v${a} - t${a};`,
      `st[${a}] = s${a};`,
    );
  });
  const gs = free.map((_, a) => `g${a} * s${a}`).join(" + ");
  const quad = free.map((_, a) => {
    const off = free.slice(a + 1).map((_, d) =>
      `H[ho + ${packedIndex(a, a + 1 + d, q)}] * s${a + 1 + d}`
    );
    const diag = `H[ho + ${packedIndex(a, a, q)}] * s${a}`;
    return off.length
      ? `s${a} * (${diag} + 2 * (${off.join(" + ")}))`
      : `s${a} * ${diag}`;
  }).join(" + ");
  body.push(
    // Predicted reduction of the (projected) step: -(g.s + s^T H s / 2).
    `const pred = -((${gs}) + 0.5 * (${quad}));`,
    "if (pred > 0) return pred;",
    "E.mu[k] = mu * E.nu[k];",
    "E.nu[k] *= 2;",
  );
  L.push(
    "for (let attempt = 0; attempt < 64; attempt++) {",
    ...body.map((l) => "  " + l),
    "}",
    "return -1;",
  );
  return `function computeStep(E, k) {\n  ${L.join("\n  ")}\n}`;
}

function iterateFitSource(s: IterateSpec): string {
  const { free, bounded } = s;
  const p = s.nParams, q = free.length, P2 = (q * (q + 1)) / 2;
  const diag = (a: number) => packedIndex(a, a, q);
  const L: string[] = [
    "const pred = computeStep(E, k);",
    "if (pred < 0) {",
    "  E.flags[fit] |= 2;",
    "  return finishFit(E, k, fit, 1);",
    "}",
    "const kernel = E.mode[k] === 0 ? E.startKernel : E.kernel;",
    "const ct = evalFit(E, kernel, k, E.tt, 0, E.Ht, 0, E.Gt, 0);",
    "E.nfv[k]++;",
    "const c0 = E.cst[k];",
    `const actred = ct - ct === 0 && finiteLinearization(E.Ht, 0, E.Gt, 0, ${q}) ? c0 - ct : -Infinity;`,
    "const ratio = actred / pred;",
    `const to = k * ${p}, ho = k * ${P2}, go = k * ${q};`,
    "const th = E.th, Hc = E.Hc, Gc = E.Gc, Dg = E.Dg, st = E.st, tt = E.tt, Ht = E.Ht, Gt = E.Gt;",
  ];
  // scipy's check_termination, with xtol also in Jacobian-scaled variables
  // (the squared column norms of J are the diagonal of H).
  free.forEach((j, a) => {
    L.push(
      `const s${a} = st[${a}], t${a} = th[to + ${j}], h${a} = Hc[ho + ${
        diag(a)
      }];`,
      `const d${a} = h${a} >= 0 ? h${a} : NaN;`,
    );
  });
  const sum = (f: (a: number) => string) =>
    free.map((_, a) => f(a)).join(" + ");
  L.push(
    `const dx = ${sum((a) => `s${a} * s${a}`)};`,
    `const xn = ${sum((a) => `t${a} * t${a}`)};`,
    `const dxs = ${sum((a) => `s${a} * s${a} * d${a}`)};`,
    `const xs = ${sum((a) => `t${a} * t${a} * d${a}`)};`,
    "const xtol = E.xtol;",
    // scipy's ftol test, or MINPACK's (|actual| and predicted reductions
    // both below ftol): at the minimum the actual reduction is rounding of
    // either sign, and scipy's test then waits for xtol, mu growing.
    "const ft = E.ftol * c0;",
    "const ftolOk = (actred < ft && ratio > 0.25) || (actred <= ft && -actred <= ft && pred <= ft && ratio <= 2);",
    "const xtolOk = Math.sqrt(dx) < xtol * (xtol + Math.sqrt(xn)) && Math.sqrt(dxs) < xtol * (xtol + Math.sqrt(xs));",
    "const accepted = actred > 0;",
    "if (accepted) {",
    ...free.map((j) => `  th[to + ${j}] = tt[${j}];`),
    ...Array.from({ length: P2 }, (_, i) => `  Hc[ho + ${i}] = Ht[${i}];`),
  );
  free.forEach((_, a) => {
    L.push(
      `  Gc[go + ${a}] = Gt[${a}];`,
      `  const n${a} = Ht[${diag(a)}] > 0 ? Math.sqrt(Ht[${diag(a)}]) : 0;`,
      `  if (n${a} > Dg[go + ${a}]) Dg[go + ${a}] = n${a};`,
    );
  });
  L.push(
    "  E.cst[k] = ct;",
    "  E.nits[k]++;",
    "  const r = 2 * ratio - 1;",
    "  const f = 1 - r * r * r;",
    "  E.mu[k] *= f > 1 / 3 ? f : 1 / 3;",
    "  E.nu[k] = 2;",
    "  if (E.mode[k] === 0 && actred < E.switchBelow * c0) E.mode[k] = 1;",
    "} else {",
    "  E.mu[k] *= E.nu[k];",
    "  E.nu[k] *= 2;",
    "}",
    "if (ftolOk || xtolOk) return finishFit(E, k, fit, ftolOk && xtolOk ? 4 : ftolOk ? 2 : 3);",
    "if (accepted) {",
    "  let pg = 0;",
  );
  if (bounded) {
    L.push(
      "  const lower = E.lower, upper = E.upper;",
      `  const bo = E.boundsPerFit ? (E.base + k) * ${p} : 0;`,
    );
  }
  free.forEach((j, a) => {
    const g = `Gt[${a}]`;
    const cond = bounded
      ? `!((tt[${j}] <= lower[bo + ${j}] && ${g} > 0) || (tt[${j}] >= upper[bo + ${j}] && ${g} < 0))`
      : "true";
    L.push(
      `  if (${cond}) {`,
      `    const v = ${g} < 0 ? -${g} : ${g};`,
      "    if (v > pg || v !== v) pg = v;",
      "  }",
    );
  });
  L.push(
    "  if (pg < E.gtol) return finishFit(E, k, fit, 1);",
    "}",
    "if (E.nfv[k] >= E.maxNfev) return finishFit(E, k, fit, 0);",
    "return false;",
  );
  return `function iterateFit(E, k, fit) {\n  ${L.join("\n  ")}\n}`;
}

function standardErrorsSource(s: IterateSpec): string {
  const { free } = s;
  const p = s.nParams, q = free.length;
  const L: string[] = [];
  // Scaled to a unit diagonal, then L D L^T; singular (condition beyond
  // ~1e10) leaves it to the SVD (pseudo-inverse) path.
  free.forEach((_, a) => {
    L.push(
      `const h${a} = H[ho + ${packedIndex(a, a, q)}];`,
      `if (!(h${a} > 0)) return false;`,
      `const z${a} = Math.sqrt(h${a}), iz${a} = 1 / z${a};`,
    );
  });
  for (let r = 0; r < q; r++) {
    for (let c = 0; c <= r; c++) {
      L.push(
        `let a${r}_${c} = H[ho + ${packedIndex(c, r, q)}] * iz${r} * iz${c};`,
      );
    }
  }
  for (let j = 0; j < q; j++) {
    let d = `a${j}_${j}`;
    for (let l = 0; l < j; l++) d += ` - e${j}_${l} * a${j}_${l}`;
    L.push(`const d${j} = ${d};`, `if (!(d${j} > 1e-10)) return false;`);
    L.push(`const id${j} = 1 / d${j};`);
    for (let i = j + 1; i < q; i++) {
      let e = `a${i}_${j}`;
      for (let l = 0; l < j; l++) e += ` - e${i}_${l} * a${j}_${l}`;
      L.push(`const e${i}_${j} = ${e};`, `a${i}_${j} = e${i}_${j} * id${j};`);
    }
  }
  // diag(A^-1) = diag(M^T D^-1 M) with M = L^-1 (unit lower triangular).
  for (let a = 0; a < q; a++) {
    const terms = [`id${a}`];
    for (let r = a + 1; r < q; r++) {
      let m = `-a${r}_${a}`;
      for (let l = a + 1; l < r; l++) m += ` - a${r}_${l} * m${l}_${a}`;
      L.push(`const m${r}_${a} = ${m};`);
      terms.push(`m${r}_${a} * m${r}_${a} * id${r}`);
    }
    L.push(
      `E.perr[fit * ${p} + ${free[a]}] = Math.sqrt((${
        terms.join(" + ")
      }) * s2) * iz${a};`,
    );
  }
  L.push("return true;");
  return `function standardErrors(E, fit, s2, H, ho) {\n  ${L.join("\n  ")}\n}`;
}

/**
 * Sources of `computeStep`, `iterateFit` and `standardErrors` unrolled for a
 * problem (function declarations, to replace the generic ones in an
 * engine's source).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { iterateSources } from "./_iterate_source.ts";
 * const src = iterateSources({ nParams: 3, free: [0, 2], bounded: false });
 * assert.ok(src.includes("function iterateFit(E, k, fit)"));
 * assert.ok(src.includes("tt[1] = th[to + 1];")); // the fixed parameter
 * ```
 */
export function iterateSources(spec: IterateSpec): string {
  checkSpec(spec);
  return [
    computeStepSource(spec),
    iterateFitSource(spec),
    standardErrorsSource(spec),
  ].join("\n");
}
