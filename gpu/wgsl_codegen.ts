/**
 * WGSL code generation: one compute module per model, precision, loss and
 * workgroup size that turns the data into per-workgroup partial sums of the
 * cost, `J^T f` and the upper triangle of `J^T J` (docs/architecture.md §5), plus a
 * small second kernel that reduces those partials to one record per
 * parameter vector.
 *
 * @module
 */

import type { Node } from "../model/ast.ts";
import type { Model } from "../model/types.ts";
import type { Ssa, SsaOperand } from "../model/ssa.ts";
import { modelSsa } from "../model/model_ssa.ts";
import { liveInstructions, variableDependence } from "../model/ssa_analysis.ts";
import type { LossName } from "../core/loss.ts";
import { EPS } from "../core/_constants.ts";
import {
  type Precision,
  wgslCall,
  wgslLiteral,
  wgslMathLibrary,
} from "./_wgsl_math.ts";

export type { Precision } from "./_wgsl_math.ts";

/** What the generator needs from a model (a `Model` has all of it). */
export type KernelModel = Pick<Model, "params" | "variables"> & {
  readonly ast?: Node;
  readonly derivatives?: readonly Node[];
};

/** Options of {@linkcode generateKernel}. */
export interface KernelOptions {
  /** Floating-point type of data, arithmetic and partial sums. */
  readonly precision: Precision;
  /** Robust loss, applied like scipy's `least_squares` (default "linear"). */
  readonly loss?: LossName;
  /** Threads per workgroup, a power of two (default 64). */
  readonly workgroupSize?: number;
  /** True when every point carries a weight (1/sigma) after y. */
  readonly weighted?: boolean;
  /** Workgroup memory available for the reduction (default 16384 bytes). */
  readonly workgroupStorageBytes?: number;
  /**
   * 0 (default): grid-stride loop, consecutive invocations read
   * consecutive vec4s in every iteration (coalesced on GPUs). k > 0: each
   * workgroup reads one contiguous block, and each group of k invocations
   * walks its own contiguous run, k vec4s per iteration. Software adapters
   * run a workgroup's invocations in SIMD groups one after the other, so a
   * group that streams through contiguous memory keeps the caches and
   * prefetchers busy: on lavapipe (k = 4, 1024 points per thread) the f64
   * pass at 1e7 points went from 57 to 37 ms (exp3) and from 102 to 50 ms
   * (gauss6), the f32 one from 68 to 38 ms (exp3), readback included; on
   * the GL backend's llvmpipe (f32) from 148 to 38 ms.
   */
  readonly laneBlock?: number;
  /**
   * Interleaved rows instead of columns: each point is `stride` values in
   * a row (an (n, stride) table as a file holds it), x_j at `columns[j]`
   * and y at `columns[nVars]`; unweighted only. A batch read from such a
   * file is uploaded as read, with no split into columns (measured on
   * lavapipe: the split cost 8.5 ms per 1M rows, more than the kernel).
   */
  readonly rows?: RowLayout;
  /**
   * Appends one component to every record: the number of points whose x
   * or y is not finite (NaN or infinite), so that a caller that uploads
   * unchecked data learns about bad input without a CPU check of its own.
   */
  readonly countInvalid?: boolean;
  /**
   * Appends two components to every `full` record (f64 only, after the
   * count of bad inputs if any): `sum(y - c)` and `sum((y - c)^2)`, with the
   * shift `c` read from the last value of the theta buffer, so that y's
   * moments come with a pass at no extra read of the data.
   */
  readonly yMoments?: boolean;
}

/**
 * Where the values of a point lie in an interleaved row (see
 * `KernelOptions.rows`).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { generateKernel } from "@nlsq/nlsq/gpu";
 * import { model } from "@nlsq/nlsq";
 * const rows: RowLayout = { stride: 2, columns: [0, 1] }; // x, y
 * const k = generateKernel(model("a * x"), { precision: "f64", rows });
 * assert.strictEqual(k.stride, 2);
 * ```
 */
export interface RowLayout {
  /** Values per row. */
  readonly stride: number;
  /** Column of each variable, then of y. */
  readonly columns: readonly number[];
}

/** Largest row stride of {@linkcode RowLayout} (vec4 loads per point block). */
const MAX_ROW_STRIDE = 16;

/**
 * A generated kernel and the layout it expects.
 *
 * Bindings of `code` (group 0): 0 data (read-only storage, one chunk
 * column-major: `x_0[0..n), .., x_{v-1}[0..n), y[0..n), w[0..n)?` with n
 * the chunk's points, so neighbouring invocations read neighbouring
 * values), 1 theta (read-only storage: the
 * header `[1/fScale, fScale^2, Infinity, NaN]` then `p` values per
 * parameter vector), 2 partials (storage), 3 the {@linkcode chunkConfig}
 * uniform. Entry points `full` (cost and linearization) and `cost` (cost
 * only) dispatch `(workgroups, nThetas)`.
 */
export interface GeneratedKernel {
  /** The WGSL module source. */
  readonly code: string;
  /** Number of parameters p. */
  readonly nParams: number;
  /** Number of input variables. */
  readonly nVars: number;
  /**
   * Columns per chunk in the data buffer (`nVars + 1`, `+ 1` if weighted),
   * each padded to a multiple of 4 points (read as vec4s).
   */
  readonly stride: number;
  /** Components of a `full` record: 1 + p + p(p+1)/2. */
  readonly nFull: number;
  /** Values stored per component: 1 in f64, 2 (hi, lo) in f32. */
  readonly valuesPerComponent: 1 | 2;
  /** Threads per workgroup. */
  readonly workgroupSize: number;
  /** Precision of the kernel. */
  readonly precision: Precision;
  /** The interleaved row layout, or undefined for columns. */
  readonly rows?: RowLayout;
  /** Whether records end with the count of non-finite inputs. */
  readonly countInvalid: boolean;
  /** Whether `full` records end with y's two shifted sums. */
  readonly yMoments: boolean;
}

/**
 * Size of the theta header, in values: `[1/fScale, fScale^2, Infinity,
 * NaN]` precede the parameter vectors in the theta buffer.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.strictEqual(THETA_HEADER, 4);
 * ```
 */
export const THETA_HEADER = 4;

/** Points a thread sums plainly in f32 before a compensated flush. */
const F32_BLOCK = 8;

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && (n & (n - 1)) === 0;
}

/**
 * The uniform of one data chunk: points in the chunk, the index of its first
 * workgroup record, records per parameter vector, workgroups per dispatch.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.deepStrictEqual([...chunkConfig(1000, 0, 16, 16)], [1000, 0, 16, 16]);
 * ```
 */
export function chunkConfig(
  n: number,
  recordBase: number,
  recordsPerTheta: number,
  workgroups: number,
): Uint32Array<ArrayBuffer> {
  return new Uint32Array([n, recordBase, recordsPerTheta, workgroups]);
}

/**
 * Emits WGSL for the operands and instructions of an SSA program (the one
 * translation the WebGPU kernels share): parameter `k` reads `p{k}`,
 * variable `v` reads `v{v}`, temporary `i` is `t{i}`, `NaN` and `Infinity`
 * read `kNaN` and `kInf` (which the kernel must define: WGSL has no literal
 * for them). Library functions a call needs are added to `used`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { model, modelSsa } from "@nlsq/nlsq/model";
 * import { wgslSsaEmitter } from "@nlsq/nlsq/gpu";
 * const used = new Set<string>();
 * const ssa = modelSsa(model("a * exp(-b * x)"));
 * const e = wgslSsaEmitter("f64", used);
 * assert.strictEqual(e.operand({ kind: "num", value: 2 }), "2.0lf");
 * const code = ssa.instructions.map((_, i) => e.instruction(i, ssa));
 * assert.match(code[0], /^let t0: f64 = /);
 * assert.ok(used.has("nl_exp"));
 * ```
 */
export function wgslSsaEmitter(
  T: Precision,
  used: Set<string>,
): {
  /** The WGSL of an operand. */
  operand(o: SsaOperand): string;
  /**
   * `let t{i}: T = ...;` for instruction `i` of `s`; a division by a key of
   * `reciprocals` becomes a product by its value.
   */
  instruction(
    i: number,
    s: Ssa,
    reciprocals?: ReadonlyMap<string, string>,
  ): string;
} {
  const L = (v: number) => wgslLiteral(v, T);
  function operand(o: SsaOperand): string {
    switch (o.kind) {
      case "num":
        if (Number.isNaN(o.value)) return "kNaN";
        if (o.value === Infinity) return "kInf";
        if (o.value === -Infinity) return "(-kInf)";
        return L(o.value);
      case "param":
        return `p${o.index}`;
      case "var":
        return `v${o.index}`;
      case "tmp":
        return `t${o.index}`;
      default: {
        const never: never = o;
        throw new TypeError(
          `generateKernel: unknown operand ${JSON.stringify(never)}`,
        );
      }
    }
  }

  // Small integer powers as products: correctly rounded (x^2) or within
  // an ulp, where exp(b log|x|) errs by several ulps (which a fit's
  // answer amplifies by the condition of its Jacobian).
  function power(base: string, exponent: SsaOperand): string {
    if (exponent.kind === "num") {
      switch (exponent.value) {
        case 1:
          return base;
        case 2:
          return `(${base} * ${base})`;
        case 3:
          return `(${base} * ${base} * ${base})`;
        case -1:
          return `(${L(1)} / ${base})`;
        case -2:
          return `(${L(1)} / (${base} * ${base}))`;
      }
    }
    return wgslCall("pow", [base, operand(exponent)], used);
  }

  function instruction(
    i: number,
    s: Ssa,
    reciprocals?: ReadonlyMap<string, string>,
  ): string {
    const ins = s.instructions[i];
    let e: string;
    switch (ins.kind) {
      case "neg":
        e = `-(${operand(ins.arg)})`;
        break;
      case "bin": {
        const rc = ins.op === "/"
          ? reciprocals?.get(operand(ins.right))
          : undefined;
        e = ins.op === "^"
          ? power(operand(ins.left), ins.right)
          : rc
          ? `${operand(ins.left)} * ${rc}`
          : `${operand(ins.left)} ${ins.op} ${operand(ins.right)}`;
        break;
      }
      case "call":
        e = wgslCall(ins.fn, ins.args.map(operand), used);
        break;
      default: {
        const never: never = ins;
        throw new TypeError(
          `generateKernel: unknown instruction ${JSON.stringify(never)}`,
        );
      }
    }
    return `let t${i}: ${T} = ${e};`;
  }

  return { operand, instruction };
}

/**
 * Generates the WGSL module for a model: residual `w (f - y)`, exact
 * Jacobian row `w df/dp_k` (from the model's symbolic derivatives, with
 * common subexpressions shared), scipy's robust loss scaling, and
 * per-workgroup partial sums. In f32 the sums are compensated (TwoSum with
 * a `select()` guard, which the shader compiler cannot fold away).
 *
 * @throws {TypeError} for a model without an expression (plain functions
 *   run on the CPU only) or a workgroup size that is not a power of two.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { model } from "../model/model.ts";
 * const k = generateKernel(model("a * exp(-b * x) + c"), { precision: "f64" });
 * assert.strictEqual(k.nFull, 1 + 3 + 6);
 * assert.match(k.code, /fn full\(/);
 * assert.match(k.code, /fn nl_exp\(/); // f64 exp is built in software
 * ```
 */
export function generateKernel(
  m: KernelModel,
  options: KernelOptions,
): GeneratedKernel {
  const kp = kernelPlan(m, options);
  // The program the JavaScript kernel runs (model/model_ssa.ts).
  const ssa = modelSsa(m);
  const full = entryPoint(kp, "full", ssa, true);
  const cost = entryPoint(kp, "cost", ssa, false);
  const { T, wg } = kp;
  if (options.yMoments && T !== "f64") {
    throw new TypeError("generateKernel: yMoments needs f64");
  }
  const code = [
    `// generated by @nlsq/nlsq gpu/wgsl_codegen.ts: ${T}, loss ${kp.loss}`,
    `struct Cfg { n: u32, recBase: u32, nRec: u32, nWg: u32 }`,
    `@group(0) @binding(0) var<storage, read> data: array<vec4<${T}>>;`,
    `@group(0) @binding(1) var<storage, read> theta: array<${T}>;`,
    `@group(0) @binding(2) var<storage, read_write> part: array<${T}>;`,
    `@group(0) @binding(3) var<uniform> cfg: Cfg;`,
    `var<workgroup> sh: array<${T}, ${
      wg * Math.min(kp.perRound, recordComponents(kp)) *
      kp.vpc
    }>;`,
    wgslMathLibrary(kp.used, T),
    full,
    cost,
  ].join("\n\n");
  return {
    code,
    nParams: kp.P,
    nVars: kp.NV,
    stride: kp.rows?.stride ?? kp.NV + 1 + (kp.weighted ? 1 : 0),
    nFull: kp.nFull,
    valuesPerComponent: kp.vpc,
    workgroupSize: wg,
    precision: T,
    rows: kp.rows,
    countInvalid: kp.countInvalid,
    yMoments: kp.yMoments,
  };
}

/** The checked shape of a kernel and the emitter its code is written with. */
interface KernelPlan {
  readonly T: Precision;
  readonly wg: number;
  readonly laneBlock: number;
  readonly loss: LossName;
  /** Parameters and variables of the model. */
  readonly P: number;
  readonly NV: number;
  readonly weighted: boolean;
  readonly rows?: RowLayout;
  readonly countInvalid: boolean;
  readonly yMoments: boolean;
  /** Components of a full record: cost, J^T f, upper triangle of J^T J. */
  readonly nFull: number;
  /** Values per component: 1 in f64, 2 (sum and error) in f32. */
  readonly vpc: 1 | 2;
  /** Components reduced per round in workgroup memory. */
  readonly perRound: number;
  /** Library functions the code calls. */
  readonly used: Set<string>;
  readonly operand: (o: SsaOperand) => string;
  readonly instruction: (
    i: number,
    s: Ssa,
    reciprocals?: ReadonlyMap<string, string>,
  ) => string;
  readonly L: (v: number) => string;
}

function kernelPlan(m: KernelModel, options: KernelOptions): KernelPlan {
  if (!m.ast || !m.derivatives) {
    throw new TypeError(
      "generateKernel: the WebGPU backend needs an expression model " +
        "(a plain function model runs on the CPU only)",
    );
  }
  const T = options.precision;
  const wg = options.workgroupSize ?? 64;
  const laneBlock = options.laneBlock ?? 0;
  if (
    !Number.isInteger(laneBlock) || laneBlock < 0 ||
    (laneBlock > 0 && wg % laneBlock !== 0)
  ) {
    throw new RangeError(
      `laneBlock must be 0 or an integer dividing workgroupSize, got ${laneBlock}`,
    );
  }
  if (!isPowerOfTwo(wg)) {
    throw new TypeError(
      `generateKernel: workgroupSize must be a power of two, got ${wg}`,
    );
  }
  const P = m.params.length;
  const vpc: 1 | 2 = T === "f64" ? 1 : 2;
  const elemBytes = T === "f64" ? 8 : 4;
  const storage = options.workgroupStorageBytes ?? 16384;
  const used = new Set<string>();
  const NV = m.variables.length;
  const weighted = options.weighted ?? false;
  if (options.rows) checkRows(options.rows, NV, weighted);
  return {
    T,
    wg,
    laneBlock,
    loss: options.loss ?? "linear",
    P,
    NV,
    weighted,
    rows: options.rows,
    countInvalid: options.countInvalid ?? false,
    yMoments: options.yMoments ?? false,
    nFull: 1 + P + (P * (P + 1)) / 2,
    vpc,
    perRound: Math.max(1, Math.floor(storage / (wg * elemBytes * vpc))),
    used,
    ...wgslSsaEmitter(T, used),
    L: (v: number) => wgslLiteral(v, T),
  };
}

/** Components of the longest (`full`) record. */
function recordComponents(kp: KernelPlan): number {
  return kp.nFull + (kp.countInvalid ? 1 : 0) + (kp.yMoments ? 2 : 0);
}

function checkRows(rows: RowLayout, nv: number, weighted: boolean): void {
  const { stride, columns } = rows;
  if (!Number.isInteger(stride) || stride < 1 || stride > MAX_ROW_STRIDE) {
    throw new RangeError(
      `rows.stride must be an integer in [1, ${MAX_ROW_STRIDE}], got ${stride}`,
    );
  }
  if (
    columns.length !== nv + 1 ||
    columns.some((c) => !Number.isInteger(c) || c < 0 || c >= stride)
  ) {
    throw new RangeError(
      `rows.columns must give ${
        nv + 1
      } columns (x.., y) below ${stride}, got [${columns}]`,
    );
  }
  if (weighted) {
    throw new RangeError("rows: interleaved data cannot carry weights");
  }
}

// Adds `v` to accumulator `c`. In f32 it goes to a short block sum b_c,
// which flush() adds to (a_c, e_c) with an error-free transform.
function accumulate(kp: KernelPlan, c: number, v: string): string {
  return kp.T === "f64" ? `a${c} = a${c} + ${v};` : `b${c} = b${c} + ${v};`;
}

// TwoSum of b_c into a_c (error into e_c); the select() keeps the shader
// compiler from simplifying (s - a) to b, which erases the error term.
function flush(c: number): string {
  return `{ let s = a${c} + b${c}; let ss = select(s, a${c}, b${c} == 0.0f); ` +
    `let bb = ss - a${c}; e${c} = e${c} + ((a${c} - (ss - bb)) + (b${c} - bb)); ` +
    `a${c} = ss; b${c} = 0.0f; }`;
}

/** rho and its derivatives of a robust loss at z = r^2 / fScale^2. */
function robustRho(kp: KernelPlan): string[] {
  const { L } = kp;
  const loss = kp.loss;
  switch (loss) {
    case "linear":
      return [];
    case "soft_l1":
      return [
        `let tt = ${L(1)} + z;`,
        "let sq = sqrt(tt);",
        `let rho0 = ${L(2)} * (sq - ${L(1)});`,
        `let rho1 = ${L(1)} / sq;`,
        `let rho2 = ${L(-0.5)} / (tt * sq);`,
      ];
    case "huber":
      return [
        `let inl = z <= ${L(1)};`,
        "let sq = sqrt(z);",
        `let rho0 = select(${L(2)} * sq - ${L(1)}, z, inl);`,
        `let rho1 = select(${L(1)} / sq, ${L(1)}, inl);`,
        `let rho2 = select(${L(-0.5)} / (z * sq), ${L(0)}, inl);`,
      ];
    case "cauchy":
      kp.used.add("nl_log1p");
      return [
        `let tt = ${L(1)} + z;`,
        "let rho0 = nl_log1p(z);",
        `let rho1 = ${L(1)} / tt;`,
        `let rho2 = ${L(-1)} / (tt * tt);`,
      ];
    case "arctan":
      kp.used.add("nl_atan");
      return [
        `let tt = ${L(1)} + z * z;`,
        "let rho0 = nl_atan(z);",
        `let rho1 = ${L(1)} / tt;`,
        `let rho2 = ${L(-2)} * z / (tt * tt);`,
      ];
    default: {
      const never: never = loss;
      throw new TypeError(`generateKernel: unknown loss ${never}`);
    }
  }
}

function lossCode(kp: KernelPlan): string[] {
  if (kp.loss === "linear") return ["let fr = r;", "let ct = r * r;"];
  const { L } = kp;
  return [
    "let z = (r * r) / fs2;",
    ...robustRho(kp),
    // scipy: J_scale = sqrt(max(rho1 + 2 rho2' f^2, EPS)), rho2' = rho2 / fScale^2
    `let js = sqrt(max(rho1 + ${L(2)} * rho2 * z, ${L(EPS)}));`,
    "let fr = rho1 / js * r;",
    "let ct = rho0;",
  ];
}

function entryPoint(
  kp: KernelPlan,
  name: string,
  s: Ssa,
  withJac: boolean,
): string {
  const live = liveInstructions(s, withJac ? s.outputs.map((_, j) => j) : [0]);
  const dep = variableDependence(s);
  const nc = withJac ? kp.nFull : 1;
  // The count of bad inputs, if any, is one more accumulator after them,
  // and y's shifted sums (full records) two more.
  const nInv = nc + (kp.countInvalid ? 1 : 0);
  const yMom = withJac && kp.yMoments;
  const nAcc = nInv + (yMom ? 2 : 0);
  const { lines, reciprocals } = entryHeader(kp, name, s, live, dep);
  for (let c = 0; c < nAcc; c++) {
    lines.push(`  var a${c}: ${kp.T} = ${kp.L(0)};`);
    if (kp.T === "f32") {
      lines.push(`  var e${c}: f32 = 0.0f;`, `  var b${c}: f32 = 0.0f;`);
    }
  }
  if (yMom) lines.push("  let cY = theta[arrayLength(&theta) - 1u];");
  lines.push(...loopOpen(kp));
  const load = kp.rows ? rowLoads(kp, kp.rows) : columnLoads(kp);
  lines.push(...load.head);
  const body = pointBody(kp, s, live, dep, reciprocals, withJac);
  for (let u = 0; u < 4; u++) {
    lines.push(`    if (4u * q + ${u}u < cfg.n) {`);
    for (const l of load.point(u)) lines.push(`      ${l}`);
    if (kp.countInvalid) {
      // kInf comes from the theta buffer, so the compiler cannot assume
      // the comparison true; NaN and infinities compare false.
      const vs = [...Array.from({ length: kp.NV }, (_, v) => `v${v}`), "yv"];
      const ok = vs.map((v) => `abs(${v}) < kInf`).join(" && ");
      lines.push(
        `      ${accumulate(kp, nc, `select(${kp.L(1)}, ${kp.L(0)}, ${ok})`)}`,
      );
    }
    if (yMom) {
      lines.push(
        "      let dY = yv - cY;",
        `      ${accumulate(kp, nInv, "dY")}`,
        `      ${accumulate(kp, nInv + 1, "dY * dY")}`,
      );
    }
    for (const l of body) lines.push(`      ${l}`);
    lines.push("    }");
  }
  lines.push("  }");
  if (kp.T === "f32") {
    for (let c = 0; c < nAcc; c++) lines.push(`  ${flush(c)}`);
    lines.push("  }");
  }
  lines.push(...reduction(kp, nAcc));
  lines.push("}");
  return lines.join("\n");
}

/** Loads of 4 points: once per block (`head`), then per point `u`. */
interface PointLoads {
  readonly head: string[];
  point(u: number): string[];
}

const COMPONENTS = ["x", "y", "z", "w"];

// Column-major chunk: consecutive invocations read consecutive vec4s.
function columnLoads(kp: KernelPlan): PointLoads {
  const col = (k: number) => (k === 0 ? "data[q]" : `data[${k}u * nq + q]`);
  const head: string[] = [];
  for (let v = 0; v < kp.NV; v++) head.push(`    let q${v} = ${col(v)};`);
  head.push(`    let qy = ${col(kp.NV)};`);
  if (kp.weighted) head.push(`    let qw = ${col(kp.NV + 1)};`);
  return {
    head,
    point(u) {
      const c = COMPONENTS[u];
      const out: string[] = [];
      for (let v = 0; v < kp.NV; v++) out.push(`let v${v} = q${v}.${c};`);
      out.push(`let yv = qy.${c};`);
      if (kp.weighted) out.push(`let wv = qw.${c};`);
      return out;
    },
  };
}

// Interleaved rows: 4 points are 4 * stride consecutive values, i.e.
// `stride` vec4s; each value's vec4 and component are known statically.
function rowLoads(kp: KernelPlan, rows: RowLayout): PointLoads {
  const S = rows.stride;
  const needed = new Set<number>();
  for (let u = 0; u < 4; u++) {
    for (const c of rows.columns) needed.add(Math.floor((u * S + c) / 4));
  }
  const head = [...needed].sort((a, b) => a - b).map((k) =>
    `    let r${k} = data[q * ${S}u + ${k}u];`
  );
  const at = (u: number, c: number) => {
    const flat = u * S + c;
    return `r${Math.floor(flat / 4)}.${COMPONENTS[flat % 4]}`;
  };
  return {
    head,
    point(u) {
      const out: string[] = [];
      for (let v = 0; v < kp.NV; v++) {
        out.push(`let v${v} = ${at(u, rows.columns[v])};`);
      }
      out.push(`let yv = ${at(u, rows.columns[kp.NV])};`);
      return out;
    },
  };
}

/**
 * The entry point's signature, parameters, their functions computed once per
 * thread, and the reciprocals of loop-invariant divisors.
 */
function entryHeader(
  kp: KernelPlan,
  name: string,
  s: Ssa,
  live: readonly boolean[],
  dep: readonly boolean[],
): { lines: string[]; reciprocals: Map<string, string> } {
  const lines = [
    `@compute @workgroup_size(${kp.wg})`,
    `fn ${name}(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {`,
    `  let tb = ${THETA_HEADER}u + wid.y * ${kp.P}u;`,
    `  let fs2 = theta[1]; let kInf = theta[2]; let kNaN = theta[3];`,
    "  _ = fs2; _ = kInf; _ = kNaN;",
  ];
  for (let k = 0; k < kp.P; k++) lines.push(`  let p${k} = theta[tb + ${k}u];`);
  // Functions of the parameters alone are computed once per thread.
  for (let i = 0; i < s.instructions.length; i++) {
    if (live[i] && !dep[i]) lines.push(`  ${kp.instruction(i, s)}`);
  }
  // Division by a loop invariant becomes a product with its reciprocal,
  // computed once (f64 division is slow on CPUs; this costs <= 1 ulp).
  const reciprocals = new Map<string, string>();
  for (let i = 0; i < s.instructions.length; i++) {
    const ins = s.instructions[i];
    if (!live[i] || !dep[i] || ins.kind !== "bin" || ins.op !== "/") continue;
    const d = ins.right;
    if (d.kind === "var" || (d.kind === "tmp" && dep[d.index])) continue;
    const key = kp.operand(d);
    if (reciprocals.has(key)) continue;
    const rc = `rc${reciprocals.size}`;
    reciprocals.set(key, rc);
    lines.push(`  let ${rc}: ${kp.T} = ${kp.L(1)} / ${key};`);
  }
  return { lines, reciprocals };
}

/**
 * The loop over the thread's points. Each thread loads 4 consecutive points
 * per column as one vec4 and runs the point body on each component: on
 * lavapipe per-point scalar loads cost 2.6x more (measured), and on GPUs
 * vec4 loads coalesce as well. Columns are padded to a multiple of 4 points;
 * a guard skips the pad.
 */
function loopOpen(kp: KernelPlan): string[] {
  const { wg, laneBlock } = kp;
  const head = [
    `  let step = cfg.nWg * ${wg}u;`,
    "  let nq = (cfg.n + 3u) / 4u;",
  ];
  // Blocks: workgroup wid.x owns iters * wg vec4s, and each run of
  // laneBlock invocations a contiguous iters * laneBlock of them.
  const blockStart = [
    "  let iters = (nq + step - 1u) / step;",
    `  let qs = wid.x * iters * ${wg}u + (lid / ${laneBlock}u) * iters * ${laneBlock}u + lid % ${laneBlock}u;`,
  ];
  if (kp.T === "f64" && laneBlock > 0) {
    return [
      ...head,
      ...blockStart,
      "  for (var it = 0u; it < iters; it++) {",
      `    let q = qs + it * ${laneBlock}u;`,
      "    if (q >= nq) { break; }",
    ];
  }
  if (kp.T === "f64") {
    return [
      ...head,
      `  for (var q = wid.x * ${wg}u + lid; q < nq; q += step) {`,
    ];
  }
  if (laneBlock > 0) {
    // blocked runs as in f64, flushed every F32_BLOCK points
    return [
      ...head,
      ...blockStart,
      `  for (var i0 = 0u; i0 < iters; i0 += ${F32_BLOCK / 4}u) {`,
      `  for (var u = 0u; u < ${F32_BLOCK / 4}u; u++) {`,
      "    let it = i0 + u;",
      `    let q = qs + it * ${laneBlock}u;`,
      "    if (it >= iters || q >= nq) { break; }",
    ];
  }
  // blocks of F32_BLOCK points per thread summed plainly, then flushed
  return [
    ...head,
    `  for (var q0 = wid.x * ${wg}u + lid; q0 < nq; q0 += ${
      F32_BLOCK / 4
    }u * step) {`,
    `  for (var u = 0u; u < ${F32_BLOCK / 4}u; u++) {`,
    "    let q = q0 + u * step;",
    "    if (q >= nq) { break; }",
  ];
}

/** One point's residual, loss, Jacobian row and accumulations. */
function pointBody(
  kp: KernelPlan,
  s: Ssa,
  live: readonly boolean[],
  dep: readonly boolean[],
  reciprocals: ReadonlyMap<string, string>,
  withJac: boolean,
): string[] {
  const body: string[] = [];
  for (let i = 0; i < s.instructions.length; i++) {
    if (live[i] && dep[i]) body.push(kp.instruction(i, s, reciprocals));
  }
  const fx = kp.operand(s.outputs[0]);
  body.push(kp.weighted ? `let r = wv * (${fx} - yv);` : `let r = ${fx} - yv;`);
  body.push(...lossCode(kp));
  body.push(accumulate(kp, 0, "ct"));
  if (!withJac) return body;
  const P = kp.P;
  for (let k = 0; k < P; k++) {
    let j = kp.operand(s.outputs[k + 1]);
    if (kp.weighted) j = `wv * ${j}`;
    if (kp.loss !== "linear") j = `js * (${j})`;
    body.push(`let j${k} = ${j};`);
  }
  for (let k = 0; k < P; k++) body.push(accumulate(kp, 1 + k, `j${k} * fr`));
  let c = 1 + P;
  for (let k = 0; k < P; k++) {
    for (let l = k; l < P; l++) body.push(accumulate(kp, c++, `j${k} * j${l}`));
  }
  return body;
}

// Tree reduction of the thread accumulators in workgroup memory, in rounds
// of as many components as fit; thread 0 writes the workgroup's record.
function reduction(kp: KernelPlan, nc: number): string[] {
  const { T, wg, perRound, vpc } = kp;
  const out: string[] = [
    `  let rec = (wid.y * cfg.nRec + cfg.recBase + wid.x) * ${nc * vpc}u;`,
  ];
  for (let base = 0; base < nc; base += perRound) {
    const kr = Math.min(perRound, nc - base);
    for (let c = 0; c < kr; c++) {
      if (T === "f64") {
        out.push(`  sh[${c * wg}u + lid] = a${base + c};`);
      } else {
        out.push(
          `  sh[${2 * c * wg}u + lid] = a${base + c};`,
          `  sh[${(2 * c + 1) * wg}u + lid] = e${base + c};`,
        );
      }
    }
    out.push("  workgroupBarrier();");
    out.push(`  for (var s = ${wg / 2}u; s > 0u; s = s >> 1u) {`);
    out.push(`    if (lid < s) {`);
    out.push(`      for (var c = 0u; c < ${kr}u; c++) {`);
    if (T === "f64") {
      out.push(
        `        sh[c * ${wg}u + lid] = sh[c * ${wg}u + lid] + sh[c * ${wg}u + lid + s];`,
      );
    } else {
      out.push(
        `        let ih = 2u * c * ${wg}u + lid;`,
        `        let il = ih + ${wg}u;`,
        "        let x = sh[ih]; let y = sh[ih + s];",
        "        let sm = x + y; let ss = select(sm, x, y == 0.0f); let bb = ss - x;",
        "        sh[il] = sh[il] + sh[il + s] + ((x - (ss - bb)) + (y - bb));",
        "        sh[ih] = ss;",
      );
    }
    out.push("      }", "    }", "    workgroupBarrier();", "  }");
    out.push("  if (lid == 0u) {");
    for (let c = 0; c < kr; c++) {
      if (T === "f64") {
        out.push(`    part[rec + ${base + c}u] = sh[${c * wg}u];`);
      } else {
        out.push(
          `    part[rec + ${2 * (base + c)}u] = sh[${2 * c * wg}u];`,
          `    part[rec + ${2 * (base + c) + 1}u] = sh[${(2 * c + 1) * wg}u];`,
        );
      }
    }
    out.push("  }", "  workgroupBarrier();");
  }
  return out;
}

/**
 * The second pass: one workgroup per parameter vector sums that vector's
 * workgroup records. Bindings: 0 partials (read-only storage), 1 output
 * (storage, `valuesPerRecord` values per vector), 2 a uniform
 * `[records per vector, values per record, components]` (u32). With
 * `accumulate` (f64 only) the sums are added to what the output holds, so
 * that batches streamed through one set of buffers are summed on the
 * device and read back once.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.match(generateReduceKernel("f32", 64), /fn reduce\(/);
 * assert.match(generateReduceKernel("f64", 64, true), /outv\[t \* rc.vpr \+ c\] \+ sh/);
 * ```
 */
export function generateReduceKernel(
  precision: Precision,
  workgroupSize = 64,
  accumulate = false,
): string {
  const T = precision;
  const wg = workgroupSize;
  if (!isPowerOfTwo(wg)) {
    throw new TypeError(
      `generateReduceKernel: workgroupSize must be a power of two, got ${wg}`,
    );
  }
  const f64 = T === "f64";
  if (accumulate && !f64) {
    throw new TypeError("generateReduceKernel: accumulate needs f64");
  }
  return `struct RCfg { nRec: u32, vpr: u32, nComp: u32, pad: u32 }
@group(0) @binding(0) var<storage, read> part: array<${T}>;
@group(0) @binding(1) var<storage, read_write> outv: array<${T}>;
@group(0) @binding(2) var<uniform> rc: RCfg;
var<workgroup> sh: array<${T}, ${wg * (f64 ? 1 : 2)}>;

@compute @workgroup_size(${wg})
fn reduce(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let t = wid.x;
  for (var c = 0u; c < rc.nComp; c++) {
${
    f64
      ? `    var s = 0.0lf;
    for (var i = lid; i < rc.nRec; i += ${wg}u) { s = s + part[(t * rc.nRec + i) * rc.vpr + c]; }
    sh[lid] = s;
    workgroupBarrier();
    for (var k = ${wg / 2}u; k > 0u; k = k >> 1u) {
      if (lid < k) { sh[lid] = sh[lid] + sh[lid + k]; }
      workgroupBarrier();
    }
    if (lid == 0u) { outv[t * rc.vpr + c] = ${
        accumulate ? "outv[t * rc.vpr + c] + " : ""
      }sh[0]; }`
      : `    var h = 0.0f;
    var l = 0.0f;
    for (var i = lid; i < rc.nRec; i += ${wg}u) {
      let o = (t * rc.nRec + i) * rc.vpr + 2u * c;
      let y = part[o];
      let sm = h + y; let ss = select(sm, h, y == 0.0f); let bb = ss - h;
      l = l + part[o + 1u] + ((h - (ss - bb)) + (y - bb));
      h = ss;
    }
    sh[lid] = h;
    sh[lid + ${wg}u] = l;
    workgroupBarrier();
    for (var k = ${wg / 2}u; k > 0u; k = k >> 1u) {
      if (lid < k) {
        let x = sh[lid]; let y = sh[lid + k];
        let sm = x + y; let ss = select(sm, x, y == 0.0f); let bb = ss - x;
        sh[lid + ${wg}u] = sh[lid + ${wg}u] + sh[lid + ${wg}u + k] + ((x - (ss - bb)) + (y - bb));
        sh[lid] = ss;
      }
      workgroupBarrier();
    }
    if (lid == 0u) { outv[t * rc.vpr + 2u * c] = sh[0]; outv[t * rc.vpr + 2u * c + 1u] = sh[${wg}u]; }`
  }
    workgroupBarrier();
  }
}
`;
}
