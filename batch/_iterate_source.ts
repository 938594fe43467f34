/**
 * Code generation of a fit's Levenberg-Marquardt loop (`runFit`: the
 * iterations of `iterateFit` and `computeStep` of `_lm_chunk.ts`, same
 * arithmetic, until the fit terminates) and of its standard errors,
 * unrolled for a problem's free parameters: their indices, the packed
 * offsets and whether there are bounds are literals, and the fit's whole
 * solver state (parameters, normal matrix, gradient, scales, damping) lives
 * in locals, with the damped solve inlined, so an iteration touches memory
 * only for the kernel's data and results. The generic functions stay for
 * orders beyond the unrolled ones. Built from integers and a flag only.
 *
 * @module
 */

import { packedIndex } from "./_kernel_source.ts";
import { ldlSolveLines, MAX_UNROLLED } from "./_step_source.ts";

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

/** A sum of per-free-parameter terms. */
function sumOver(q: number, f: (a: number) => string): string {
  return Array.from({ length: q }, (_, a) => f(a)).join(" + ");
}

/**
 * The active set (bounded): a parameter at a bound that the gradient
 * pushes out is held.
 */
function heldLines(q: number): string[] {
  return Array.from(
    { length: q },
    (_, a) =>
      `const B${a} = (x${a} <= L${a} && g${a} > 0) || (x${a} >= U${a} && g${a} < 0);`,
  );
}

/**
 * The trial step: solves the damped system until a step predicts a
 * reduction (mu grows on a failed pivot or on no predicted reduction), as
 * `computeStep` of `_lm_chunk.ts`. Leaves the trial point in v*, the
 * (projected) step in s*, the predicted reduction in `pred` (-1: none).
 */
function stepLines(s: IterateSpec): string[] {
  const { free, bounded } = s;
  const q = free.length;
  const solve = ldlSolveLines(q, {
    h: (c, r) => `M${packedIndex(c, r, q)}`,
    g: (r) => `g${r}`,
    d: (a) => `D${a}`,
    held: bounded ? (a) => `B${a}` : null,
    fail: "break solve;",
  });
  const L: string[] = [
    "pred = -1;",
    "for (let attempt = 0; attempt < 64; attempt++) {",
    "  let solved = false;",
    "  solve: {",
    ...solve.map((l) => "    " + l),
    ...free.map((_, a) => `    s${a} = b${a};`),
    "    solved = true;",
    "  }",
    "  if (!solved) {",
    "    mu = mu * 10 > 1e-12 ? mu * 10 : 1e-12;",
    "    continue;",
    "  }",
  ];
  free.forEach((_, a) => {
    L.push(`  v${a} = x${a} + s${a};`);
    if (bounded) {
      L.push(
        `  if (v${a} < L${a}) v${a} = L${a};`,
        `  else if (v${a} > U${a}) v${a} = U${a};`,
      );
    }
    L.push(`  s${a} = v${a} - x${a};`);
  });
  const quad = free.map((_, a) => {
    const off = free.slice(a + 1).map((_, d) =>
      `M${packedIndex(a, a + 1 + d, q)} * s${a + 1 + d}`
    );
    const diag = `M${packedIndex(a, a, q)} * s${a}`;
    return off.length
      ? `s${a} * (${diag} + 2 * (${off.join(" + ")}))`
      : `s${a} * ${diag}`;
  }).join(" + ");
  L.push(
    // Predicted reduction of the (projected) step: -(g.s + s^T H s / 2).
    `  const pr = -((${
      sumOver(q, (a) => `g${a} * s${a}`)
    }) + 0.5 * (${quad}));`,
    "  if (pr > 0) {",
    "    pred = pr;",
    "    break;",
    "  }",
    "  mu = mu * nu;",
    "  nu *= 2;",
    "}",
  );
  return L;
}

/** The largest |gradient| over the free parameters not held at a bound. */
function gradientNormLines(s: IterateSpec): string[] {
  const L = ["let pg = 0;"];
  s.free.forEach((_, a) => {
    const body = [
      `const ag${a} = g${a} < 0 ? -g${a} : g${a};`,
      `if (ag${a} > pg || ag${a} !== ag${a}) pg = ag${a};`,
    ];
    if (!s.bounded) L.push(...body);
    else {
      L.push(
        `if (!((x${a} <= L${a} && g${a} > 0) || (x${a} >= U${a} && g${a} < 0))) {`,
        ...body.map((l) => "  " + l),
        "}",
      );
    }
  });
  return L;
}

/**
 * Source of `runFit(E, k, fit)`: Levenberg-Marquardt iterations of fit k
 * until it terminates, its whole state (parameters, normal matrix,
 * gradient, scales, mu) in locals; the same arithmetic, step for step, as
 * `iterateFit` of `_lm_chunk.ts`, whose per-fit arrays it reads at the start
 * and writes back at the end (then `finishFit`).
 */
function runFitSource(s: IterateSpec): string {
  const { free, bounded } = s;
  const p = s.nParams, q = free.length, P2 = (q * (q + 1)) / 2;
  const fixed = [...Array(p).keys()].filter((j) => !free.includes(j));
  const diag = (a: number) => packedIndex(a, a, q);
  const each = (f: (a: number) => string) => free.map((_, a) => f(a));
  const range = (n: number, f: (i: number) => string) =>
    Array.from({ length: n }, (_, i) => f(i));
  const L: string[] = [
    `const to = k * ${p}, ho = k * ${P2}, go = k * ${q};`,
    "const th = E.th, Hc = E.Hc, Gc = E.Gc, Dg = E.Dg, tt = E.tt, Ht = E.Ht, Gt = E.Gt;",
    "const ftol = E.ftol, xtol = E.xtol, gtol = E.gtol, maxNfev = E.maxNfev;",
  ];
  if (bounded) {
    L.push(
      "const lower = E.lower, upper = E.upper;",
      `const bo = E.boundsPerFit ? (E.base + k) * ${p} : 0;`,
      ...free.map((j, a) =>
        `const L${a} = lower[bo + ${j}], U${a} = upper[bo + ${j}];`
      ),
    );
  }
  L.push(
    ...fixed.map((j) => `tt[${j}] = th[to + ${j}];`),
    ...free.map((j, a) => `let x${a} = th[to + ${j}];`),
    ...range(P2, (i) => `let M${i} = Hc[ho + ${i}];`),
    ...each((a) => `let g${a} = Gc[go + ${a}], D${a} = Dg[go + ${a}];`),
    ...each((a) => `let s${a} = 0, v${a} = 0;`),
    "let c0 = E.cst[k], mu = E.mu[k], nu = E.nu[k], mode = E.mode[k];",
    "let nfv = E.nfv[k], nits = E.nits[k], pred = -1;",
    "let status = 0;",
    "for (;;) {",
  );
  const B: string[] = [];
  if (bounded) B.push(...heldLines(q));
  B.push(
    ...stepLines(s),
    "if (pred < 0) {",
    "  E.flags[fit] |= 2;",
    "  status = 1;",
    "  break;",
    "}",
    ...free.map((j, a) => `tt[${j}] = v${a};`),
    "const ct = evalFit(E, mode === 0 ? E.startKernel : E.kernel, k, tt, 0, Ht, 0, Gt, 0);",
    "nfv++;",
    `const fin = ${range(P2, (i) => `Ht[${i}]`).join(" + ")} + ${
      range(q, (a) => `Gt[${a}]`).join(" + ")
    };`,
    "const actred = ct - ct === 0 && fin - fin === 0 ? c0 - ct : -Infinity;",
    "const ratio = actred / pred;",
    // scipy's check_termination, with xtol also in Jacobian-scaled
    // variables (the squared column norms of J are the diagonal of H).
    ...each((a) => `const d${a} = M${diag(a)} >= 0 ? M${diag(a)} : NaN;`),
    `const dx = ${sumOver(q, (a) => `s${a} * s${a}`)};`,
    `const xn = ${sumOver(q, (a) => `x${a} * x${a}`)};`,
    `const dxs = ${sumOver(q, (a) => `s${a} * s${a} * d${a}`)};`,
    `const xs = ${sumOver(q, (a) => `x${a} * x${a} * d${a}`)};`,
    // scipy's ftol test, or MINPACK's (|actual| and predicted reductions
    // both below ftol): at the minimum the actual reduction is rounding of
    // either sign, and scipy's test then waits for xtol, mu growing.
    "const ft = ftol * c0;",
    "const ftolOk = (actred < ft && ratio > 0.25) || (actred <= ft && -actred <= ft && pred <= ft && ratio <= 2);",
    "const xtolOk = Math.sqrt(dx) < xtol * (xtol + Math.sqrt(xn)) && Math.sqrt(dxs) < xtol * (xtol + Math.sqrt(xs));",
    "const accepted = actred > 0;",
    "if (accepted) {",
    ...each((a) => `  x${a} = v${a};`),
    ...range(P2, (i) => `  M${i} = Ht[${i}];`),
    ...each((a) => `  g${a} = Gt[${a}];`),
    ...each((a) =>
      `  { const n = M${diag(a)} > 0 ? Math.sqrt(M${
        diag(a)
      }) : 0; if (n > D${a}) D${a} = n; }`
    ),
    "  if (mode === 0 && actred < E.switchBelow * c0) mode = 1;",
    "  c0 = ct;",
    "  nits++;",
    "  const r = 2 * ratio - 1;",
    "  const f = 1 - r * r * r;",
    "  mu *= f > 1 / 3 ? f : 1 / 3;",
    "  nu = 2;",
    "} else {",
    "  mu *= nu;",
    "  nu *= 2;",
    "}",
    "if (ftolOk || xtolOk) {",
    "  status = ftolOk && xtolOk ? 4 : ftolOk ? 2 : 3;",
    "  break;",
    "}",
    "if (accepted) {",
    ...gradientNormLines(s).map((l) => "  " + l),
    "  if (pg < gtol) {",
    "    status = 1;",
    "    break;",
    "  }",
    "}",
    "if (nfv >= maxNfev) {",
    "  status = 0;",
    "  break;",
    "}",
  );
  L.push(
    ...B.map((l) => "  " + l),
    "}",
    ...free.map((j, a) => `th[to + ${j}] = x${a};`),
    ...range(P2, (i) => `Hc[ho + ${i}] = M${i};`),
    ...each((a) => `Gc[go + ${a}] = g${a};`),
    "E.cst[k] = c0;",
    "E.nfv[k] = nfv;",
    "E.nits[k] = nits;",
    "return finishFit(E, k, fit, status);",
  );
  return `function runFit(E, k, fit) {\n  ${L.join("\n  ")}\n}`;
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
 * Sources of `runFit` and `standardErrors` unrolled for a problem (function
 * declarations, to replace the generic ones in an engine's source).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { iterateSources } from "./_iterate_source.ts";
 * const src = iterateSources({ nParams: 3, free: [0, 2], bounded: false });
 * assert.ok(src.includes("function runFit(E, k, fit)"));
 * assert.ok(src.includes("tt[1] = th[to + 1];")); // the fixed parameter
 * assert.ok(src.includes("let x1 = th[to + 2];")); // free parameters by place
 * ```
 */
export function iterateSources(spec: IterateSpec): string {
  checkSpec(spec);
  return [
    runFitSource(spec),
    standardErrorsSource(spec),
  ].join("\n");
}
