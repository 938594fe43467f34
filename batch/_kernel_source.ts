/**
 * Code generation of the batch engine's per-fit kernel: one loop over a
 * fit's points that computes the cost, the packed upper triangle of the
 * (weighted) normal matrix and the gradient of the free parameters, every
 * sum in a local variable (unrolled for the model's parameters), with no
 * Jacobian stored. Built from the model's SSA program only (see
 * `model/compile_js.ts` for the guarantees: no user text reaches the code).
 *
 * Kernel: `kernel(X, xo, y, yo, w, wo, n, P, po, H, ho, G, go)` reads the
 * points `xo .. xo+n-1` of every column of `X`, `y[yo ..]`, weights
 * `w[wo ..]` (1/sigma, or `w === null`) and the parameters `P[po .. po+p-1]`;
 * writes `H[ho ..]` (q(q+1)/2 values, row-major upper triangle over the
 * free parameters) and `G[go .. go+q-1]`; returns the cost, NaN when a value
 * is not finite (Poisson: also when the model is not > 0 at a point).
 *
 * - least squares: cost `0.5 * sum(rho(r^2))` with r = w (f - y), H = J^T J,
 *   G = J^T r; a robust loss weights G by rho' (as `core/loss.ts`) and H by
 *   max(rho' + 2 z rho'', rho' / 10);
 * - Poisson: cost `sum(f - y - y log(f / y))` (half the deviance; y log y = 0
 *   at y = 0), G = sum((1 - y/f) J), H its Hessian
 *   `sum(y/f^2 J J^T + (1 - y/f) d2f)` with `secondOrder` (Fisher scoring,
 *   `sum(J J^T / f)`, converges only linearly where the data are far from
 *   the model), else the Fisher matrix (for the covariance).
 *
 * `ssr(X, xo, y, yo, n, P, po)` returns the unweighted `sum((y - f)^2)`.
 *
 * @module
 */

import type { Ssa, SsaInstr, SsaOperand } from "../model/ssa.ts";
import { jsCodegen } from "../model/compile_js.ts";
import { liveInstructions, variableDependence } from "../model/ssa_analysis.ts";
import { LOSS_NAMES, type LossName } from "../core/loss.ts";

/** What the kernel is generated for. */
export interface KernelSpec {
  /** The model's SSA: output 0 is f, output 1 + k is d f / d p_k. */
  readonly ssa: Ssa;
  /** Number of model parameters p. */
  readonly nParams: number;
  /** Indices of the free parameters (the others keep their start value). */
  readonly free: readonly number[];
  /** "lse" (least squares) or "poisson" (maximum likelihood). */
  readonly estimator: "lse" | "poisson";
  /** Robust loss of least squares. */
  readonly loss: LossName;
  /** Soft margin of the robust loss. */
  readonly fScale: number;
  /**
   * Poisson: the outputs after the first derivatives are the second
   * derivatives d2 f / d p_a d p_b of the free pairs a <= b (packed order),
   * and the kernel's H is the Hessian of the half deviance (Newton).
   */
  readonly secondOrder?: boolean;
}

/** Sources of the two generated functions (function expressions). */
export interface KernelSources {
  readonly kernel: string;
  /**
   * The kernel of the covariance where it differs from the solver's: scipy's
   * curvature of a robust loss, the Fisher matrix of Poisson; else null.
   */
  readonly covKernel: string | null;
  readonly ssr: string;
  /** Helper declarations they need in scope (fastExp, erf). */
  readonly helpers: string;
}

/** Index of (a, b), a <= b, in a row-major packed upper triangle of order q. */
export function packedIndex(a: number, b: number, q: number): number {
  return a * q - (a * (a - 1)) / 2 + (b - a);
}

function operandsOf(ins: SsaInstr): readonly SsaOperand[] {
  if (ins.kind === "neg") return [ins.arg];
  if (ins.kind === "bin") return [ins.left, ins.right];
  return ins.args;
}

/** Whether an operand is the same at every point (no variable in it). */
function invariantOf(dep: readonly boolean[]) {
  return (o: SsaOperand) =>
    o.kind !== "var" && (o.kind !== "tmp" || !dep[o.index]);
}

/** Per-row and hoisted instructions computing the given roots. */
class Emitter {
  readonly #ssa: Ssa;
  readonly #dep: boolean[];
  readonly #live: boolean[];
  readonly #rcp = new Map<string, string>();
  readonly hoisted: string[] = [];
  readonly row: string[] = [];

  constructor(ssa: Ssa, roots: readonly SsaOperand[]) {
    this.#ssa = ssa;
    this.#dep = variableDependence(ssa);
    this.#live = liveInstructions(
      { instructions: ssa.instructions, outputs: roots },
      roots.map((_, j) => j),
    );
    ssa.instructions.forEach((ins, i) => {
      if (!this.#live[i]) return;
      if (this.#dep[i]) this.row.push(`const t${i} = ${this.#rowExpr(ins)};`);
      else this.hoisted.push(`const t${i} = ${jsCodegen.expression(ins)};`);
    });
  }

  /** A division by a loop invariant becomes a product by its reciprocal. */
  #rowExpr(ins: SsaInstr): string {
    if (
      ins.kind === "bin" && ins.op === "/" && invariantOf(this.#dep)(ins.right)
    ) {
      const d = jsCodegen.operand(ins.right);
      let name = this.#rcp.get(d);
      if (name === undefined) {
        name = `rcp${this.#rcp.size}`;
        this.#rcp.set(d, name);
        this.hoisted.push(`const ${name} = 1 / ${d};`);
      }
      return `${jsCodegen.operand(ins.left)} * ${name}`;
    }
    return jsCodegen.expression(ins);
  }

  /** Variables read per row (by the live instructions and the roots). */
  variables(roots: readonly SsaOperand[]): number[] {
    const used = new Set<number>();
    const see = (o: SsaOperand) => o.kind === "var" && used.add(o.index);
    this.#ssa.instructions.forEach((ins, i) => {
      if (this.#live[i]) operandsOf(ins).forEach(see);
    });
    roots.forEach(see);
    return [...used].sort((a, b) => a - b);
  }
}

/**
 * A derivative column split as (loop-invariant factor) x (product of
 * per-point leaves): `d = a * exp(u) * 2 * (x - m) / s^2` accumulates
 * `exp(u) * (x - m)` per point and is scaled by `2 a / s^2` once per call,
 * which saves most of the per-point multiplications of peak models. Only
 * products, negations and divisions by invariants are split; a per-point
 * value the model value needs anyway is a leaf as it is.
 */
interface Column {
  /** Invariant factors (operands, or reciprocals "1 / operand"). */
  readonly factors: string[];
  /** Invariant operands the factors read (to keep them computed). */
  readonly reads: SsaOperand[];
  /** Per-point leaves; empty for a column that is invariant. */
  readonly leaves: SsaOperand[];
}

/** Most leaves a column is split into (beyond, it is kept whole). */
const MAX_LEAVES = 3;

function splitColumn(
  ssa: Ssa,
  dep: readonly boolean[],
  liveF: readonly boolean[],
  out: SsaOperand,
): Column {
  const inv = invariantOf(dep);
  const col: Column = { factors: [], reads: [], leaves: [] };
  let negative = false;
  const stack = [out];
  while (stack.length > 0) {
    const o = stack.pop()!;
    if (inv(o)) {
      if (!(o.kind === "num" && o.value === 1)) {
        col.factors.push(jsCodegen.operand(o));
        col.reads.push(o);
      }
      continue;
    }
    const ins = o.kind === "tmp" ? ssa.instructions[o.index] : null;
    if (ins === null || liveF[(o as { index: number }).index]) {
      col.leaves.push(o);
    } else if (ins.kind === "neg") {
      negative = !negative;
      stack.push(ins.arg);
    } else if (ins.kind === "bin" && ins.op === "*") {
      stack.push(ins.right, ins.left);
    } else if (ins.kind === "bin" && ins.op === "/" && inv(ins.right)) {
      col.factors.push(`(1 / ${jsCodegen.operand(ins.right)})`);
      col.reads.push(ins.right);
      stack.push(ins.left);
    } else {
      col.leaves.push(o);
    }
  }
  if (col.leaves.length > MAX_LEAVES) {
    return { factors: [], reads: [], leaves: [out] };
  }
  if (negative) col.factors.unshift("(-1)");
  return col;
}

function paramLines(nParams: number): string[] {
  return Array.from(
    { length: nParams },
    (_, k) => `const p${k} = P[po + ${k}];`,
  );
}

function indent(lines: readonly string[], n: number): string[] {
  return lines.map((l) => " ".repeat(n) + l);
}

/** The loop body that turns r (and the derivatives d_a) into the sums. */
function accumulate(
  d: readonly string[],
  q: number,
  weightH: string | null,
): string[] {
  const out: string[] = [];
  const e = d.map((da, a) => {
    if (da === "0" || weightH === null) return da;
    out.push(`const e${a} = ${da} * ${weightH};`);
    return `e${a}`;
  });
  for (let a = 0; a < q; a++) {
    if (d[a] === "0") continue;
    out.push(`g${a} += ${d[a]} * gw;`);
    for (let b = a; b < q; b++) {
      if (d[b] === "0") continue;
      // 1 * 1 sums to the number of points (set after the loop).
      if (e[a] === "1" && d[b] === "1") continue;
      out.push(`h${packedIndex(a, b, q)} += ${e[a]} * ${d[b]};`);
    }
  }
  return out;
}

/** `h = n` for the sums of 1 * 1 that `accumulate` leaves out. */
function constantPairs(d: readonly string[], q: number): string[] {
  const out: string[] = [];
  for (let a = 0; a < q; a++) {
    for (let b = a; b < q; b++) {
      if (d[a] === "1" && d[b] === "1") {
        out.push(`  h${packedIndex(a, b, q)} = n;`);
      }
    }
  }
  return out;
}

function lseBody(
  f: string,
  d: readonly string[],
  q: number,
  spec: KernelSpec,
  weighted: boolean,
  scipyCurvature: boolean,
): string[] {
  const lines: string[] = [];
  const dw = weighted
    ? d.map((da, a) => {
      if (da === "0") return da;
      lines.push(`const w${a} = wi * ${da};`);
      return `w${a}`;
    })
    : d;
  if (weighted) lines.unshift("const wi = w[wo + i];");
  lines.push(
    weighted
      ? `const r = wi * (${f} - y[yo + i]);`
      : `const r = ${f} - y[yo + i];`,
  );
  if (spec.loss === "linear") {
    lines.push("c += r * r;", "const gw = r;");
    return [...lines, ...accumulate(dw, q, null)];
  }
  lines.push(
    "const z = r * r * ifs2;",
    `lossRho(${JSON.stringify(spec.loss)}, z, RHO);`,
    "c += RHO[0];",
    "const gw = RHO[1] * r;",
  );
  // The curvature weight is scipy's rho' + 2 z rho'', but at least a tenth
  // of rho' (iteratively reweighted least squares) where scipy clips it to
  // EPS: an outlier then still bounds the step (EPS made J^T J tiny and the
  // step huge). Only g = 0 decides the minimum, so it is the same one.
  lines.push(
    "let hw = RHO[1] + 2 * (RHO[2] * ifs2) * r * r;",
    scipyCurvature
      ? "if (hw < EPS) hw = EPS;"
      : "if (hw < 0.1 * RHO[1]) hw = 0.1 * RHO[1];",
  );
  return [...lines, ...accumulate(dw, q, "hw")];
}

function poissonBody(
  f: string,
  d: readonly string[],
  q: number,
  second: readonly string[] | null,
): string[] {
  const lines = [
    `const f = ${f};`,
    "if (!(f > 0)) return NaN;",
    "const yi = y[yo + i];",
    "const iv = 1 / f;",
    "c += yi > 0 ? (f - yi) - yi * Math.log(f / yi) : f;",
    "const gw = 1 - yi * iv;",
  ];
  if (second === null) return [...lines, ...accumulate(d, q, "iv")];
  lines.push("const hw = yi * iv * iv;", ...accumulate(d, q, "hw"));
  second.forEach((s2, k) => {
    if (s2 !== "0") lines.push(`s${k} += gw * ${s2};`);
  });
  return lines;
}

function kernelSource(spec: KernelSpec, covariance = false): string {
  const { ssa, free } = spec;
  const q = free.length;
  const nH = (q * (q + 1)) / 2;
  const p = spec.nParams;
  const secondOps = spec.secondOrder && !covariance
    ? ssa.outputs.slice(1 + p, 1 + p + nH)
    : [];
  const dep = variableDependence(ssa);
  const liveF = liveInstructions(ssa, [0]);
  const cols = free.map((k) =>
    splitColumn(ssa, dep, liveF, ssa.outputs[k + 1])
  );
  const roots = [
    ssa.outputs[0],
    ...cols.flatMap((c) => [...c.leaves, ...c.reads]),
    ...secondOps,
  ];
  const em = new Emitter(ssa, roots);
  const f = jsCodegen.operand(ssa.outputs[0]);
  // Per-point value of each column ("1" when the column is invariant).
  const uLines: string[] = [];
  const d = cols.map((c, a) => {
    if (c.factors.includes("0")) return "0";
    if (c.leaves.length === 0) return "1";
    if (c.leaves.length === 1) return jsCodegen.operand(c.leaves[0]);
    uLines.push(
      `const u${a} = ${c.leaves.map((o) => jsCodegen.operand(o)).join(" * ")};`,
    );
    return `u${a}`;
  });
  const scale = cols.map((c, a) => {
    if (c.factors.length === 0) return null;
    em.hoisted.push(`const k${a} = ${c.factors.join(" * ")};`);
    return `k${a}`;
  });
  const vars = em.variables(roots);
  const rowHead = [
    ...vars.map((v) => `const x${v} = X${v}[xo + i];`),
    ...em.row,
    ...uLines,
  ];
  const loop = (body: string[]) => [
    "for (let i = 0; i < n; i++) {",
    ...indent([...rowHead, ...body], 2),
    "}",
  ];
  const sums = [
    "let c = 0;",
    ...Array.from({ length: q }, (_, a) => `let g${a} = 0;`),
    ...Array.from({ length: nH }, (_, k) => `let h${k} = 0;`),
    ...secondOps.map((_, k) => `let s${k} = 0;`),
  ];
  const plusSecond = (k: number) =>
    k < secondOps.length && jsCodegen.operand(secondOps[k]) !== "0"
      ? ` + s${k}`
      : "";
  const times = (...ks: (string | null)[]) => {
    const f = ks.filter((k) => k !== null);
    return f.length ? `${f.join(" * ")} * ` : "";
  };
  const store: string[] = [];
  for (let a = 0; a < q; a++) {
    for (let b = a; b < q; b++) {
      const k = packedIndex(a, b, q);
      store.push(
        `H[ho + ${k}] = ${times(scale[a], scale[b])}h${k}${plusSecond(k)};`,
      );
    }
  }
  for (let a = 0; a < q; a++) {
    store.push(`G[go + ${a}] = ${times(scale[a])}g${a};`);
  }
  let body: string[];
  let result: string;
  if (spec.estimator === "poisson") {
    body = loop(
      poissonBody(
        f,
        d,
        q,
        spec.secondOrder && !covariance
          ? secondOps.map((o) => jsCodegen.operand(o))
          : null,
      ),
    );
    result = "c";
  } else {
    body = [
      "if (w === null) {",
      ...indent(loop(lseBody(f, d, q, spec, false, covariance)), 2),
      ...(spec.loss === "linear" ? constantPairs(d, q) : []),
      "} else {",
      ...indent(loop(lseBody(f, d, q, spec, true, covariance)), 2),
      "}",
    ];
    result = "0.5 * c";
    if (spec.loss !== "linear") {
      if (!LOSS_NAMES.includes(spec.loss)) {
        throw new TypeError(`unknown loss ${JSON.stringify(spec.loss)}`);
      }
      const fs2 = jsCodegen.operand({
        kind: "num",
        value: spec.fScale * spec.fScale,
      });
      sums.unshift(`const ifs2 = 1 / ${fs2};`);
      result = `0.5 * ${fs2} * c`;
    }
  }
  const lines = [
    ...paramLines(spec.nParams),
    ...vars.map((v) => `const X${v} = X[${v}];`),
    ...em.hoisted,
    ...sums,
    ...body,
    ...store,
    `return ${result};`,
  ];
  return `function batchKernel(X, xo, y, yo, w, wo, n, P, po, H, ho, G, go) {\n${
    indent(lines, 2).join("\n")
  }\n}`;
}

function ssrSource(spec: KernelSpec): string {
  const { ssa } = spec;
  const em = new Emitter(ssa, [ssa.outputs[0]]);
  const vars = em.variables([ssa.outputs[0]]);
  const lines = [
    ...paramLines(spec.nParams),
    ...vars.map((v) => `const X${v} = X[${v}];`),
    ...em.hoisted,
    "let s = 0;",
    "for (let i = 0; i < n; i++) {",
    ...indent([
      ...vars.map((v) => `const x${v} = X${v}[xo + i];`),
      ...em.row,
      `const r = y[yo + i] - ${jsCodegen.operand(ssa.outputs[0])};`,
      "s += r * r;",
    ], 2),
    "}",
    "return s;",
  ];
  return `function batchSsr(X, xo, y, yo, n, P, po) {\n${
    indent(lines, 2).join("\n")
  }\n}`;
}

/**
 * Generates the kernel and the residual-sum function of a model.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { model } from "@nlsq/nlsq";
 * import { modelSsa } from "@nlsq/nlsq/model";
 * import { batchKernelSources } from "./_kernel_source.ts";
 * const m = model("a * x + b");
 * const src = batchKernelSources({
 *   ssa: modelSsa(m), nParams: 2, free: [0, 1], estimator: "lse",
 *   loss: "linear", fScale: 1,
 * });
 * const kernel = new Function(`${src.helpers}\nreturn ${src.kernel};`)();
 * const H = new Float64Array(3), G = new Float64Array(2);
 * const x = new Float64Array([0, 1, 2]), y = new Float64Array([1, 3, 6]);
 * const cost = kernel([x], 0, y, 0, null, 0, 3, new Float64Array([2, 1]), 0, H, 0, G, 0);
 * assert.strictEqual(cost, 0.5); // residuals 0, 0, -1
 * assert.deepStrictEqual(Array.from(H), [5, 3, 3]); // sum x^2, sum x, n
 * assert.deepStrictEqual(Array.from(G), [-2, -1]);
 * ```
 */
export function batchKernelSources(spec: KernelSpec): KernelSources {
  return {
    kernel: kernelSource(spec),
    covKernel: spec.secondOrder ||
        (spec.estimator === "lse" && spec.loss !== "linear")
      ? kernelSource(spec, true)
      : null,
    ssr: ssrSource(spec),
    helpers: jsCodegen.helpers(spec.ssa),
  };
}
