/**
 * The batch kernel of least squares in WebAssembly with 128-bit SIMD: two
 * points per instruction (f64x2), for the models whose per-point program
 * uses arithmetic, `exp`, `sqrt` and `abs` only (others keep the
 * JavaScript kernel of `_kernel_source.ts`). Same contract as that kernel
 * (`kernel(X, xo, y, yo, w, wo, n, P, po, H, ho, G, go)`): a JavaScript
 * wrapper computes the loop invariants (as the JavaScript kernel does),
 * writes them and the fit's points into the module's memory, runs the
 * point loop in WebAssembly, and scales the sums into H and G.
 *
 * `exp` is fdlibm's (a rational approximation after the reduction by ln 2,
 * under an ulp), with the argument clamped to [-708, 709]: below, the
 * value (under 3.3e-308) reads as 3.3e-308; above, as 8.2e307 (a model
 * value that large makes the cost overflow either way). Sums run in two
 * lanes (even and odd points), added at the end, and products are fused
 * with their sums where the runtime has relaxed SIMD (`f64x2.relaxed_madd`:
 * one rounding on hardware with FMA): the results differ from the
 * JavaScript kernel's by rounding only (the same bits on every thread of a
 * machine).
 *
 * Built from the model's SSA program only (no user text reaches the code).
 *
 * @module
 */

import type { Ssa, SsaOperand } from "../model/ssa.ts";
import { jsCodegen } from "../model/compile_js.ts";
import { variableDependence } from "../model/ssa_analysis.ts";
import {
  type KernelPlan,
  kernelPlan,
  type KernelSpec,
  packedIndex,
  paramLines,
} from "./_kernel_source.ts";

// Memory layout (bytes): invariants, then the sums, then the columns.
const OUT = 8192;
const DATA = 16384;

/** Unsigned LEB128. */
function u32(v: number): number[] {
  const out: number[] = [];
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
}

/** Signed LEB128 (i32). */
function s32(v: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && !(b & 0x40)) || (v === -1 && b & 0x40)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

function f64Bytes(v: number): number[] {
  return [...new Uint8Array(new Float64Array([v]).buffer)];
}

function vec(items: number[][]): number[] {
  return [...u32(items.length), ...items.flat()];
}

function section(id: number, body: number[]): number[] {
  return [id, ...u32(body.length), ...body];
}

const V128 = 0x7b, I32 = 0x7f;
const simd = (op: number) => [0xfd, ...u32(op)];
const OP = {
  load: (offset: number) => [...simd(0x00), 4, ...u32(offset)],
  splat: simd(0x14),
  lane: (l: number) => [...simd(0x21), l],
  abs: simd(0xec),
  neg: simd(0xed),
  sqrt: simd(0xef),
  add: simd(0xf0),
  sub: simd(0xf1),
  mul: simd(0xf2),
  div: simd(0xf3),
  min: simd(0xf4),
  max: simd(0xf5),
  i64shl: simd(0xcb),
  i64add: simd(0xce),
  /** a * b + c, fused where the hardware has FMA (relaxed SIMD). */
  madd: simd(0x107),
};

/** A v128 constant with both lanes `v`. */
function splatConst(v: number): number[] {
  return [...simd(0x0c), ...f64Bytes(v), ...f64Bytes(v)];
}

/** fdlibm's exp constants. */
const LN2_HI = 6.93147180369123816490e-01;
const LN2_LO = 1.90821492927058770002e-10;
const INV_LN2 = 1.44269504088896338700e+00;
const EXP_P = [
  1.66666666666666019037e-01,
  -2.77777777770155933842e-03,
  6.61375632143793436117e-05,
  -1.65339022054652515390e-06,
  4.13813679705723846039e-08,
];
const MAGIC = 6755399441055744; // 1.5 * 2^52: rounds to an integer

/** Builds the body of one kernel function (weighted or not). */
class Body {
  code: number[] = [];
  nLocals = 0;
  readonly consts = new Map<number, number>();
  /** fma: fuse products with sums (relaxed SIMD's madd). */
  constructor(readonly fma: boolean) {}
  /** Code pushing a constant vector (a local set before the loop). */
  constant(v: number): number[] {
    let l = this.consts.get(v);
    if (l === undefined) {
      l = this.newLocal();
      this.consts.set(v, l);
    }
    return [0x20, ...u32(l)];
  }
  /** Local 0 is the parameter n (i32); 1, 2 are i32 (i, end). */
  readonly v128Base = 3;
  newLocal(): number {
    return this.v128Base + this.nLocals++;
  }
  get(l: number): void {
    this.code.push(0x20, ...u32(l));
  }
  set(l: number): void {
    this.code.push(0x21, ...u32(l));
  }
  op(bytes: number[]): void {
    this.code.push(...bytes);
  }
}

interface Gen {
  readonly ssa: Ssa;
  readonly plan: KernelPlan;
  readonly dep: readonly boolean[];
  /** JavaScript expression of each invariant slot. */
  readonly slots: string[];
  readonly slotOf: Map<string, number>;
  readonly stride: number;
}

function slot(g: Gen, js: string): number {
  let s = g.slotOf.get(js);
  if (s === undefined) {
    s = g.slots.length;
    g.slots.push(js);
    g.slotOf.set(js, s);
  }
  return s;
}

/** exp of the vector on the stack (clamped, see the module doc). */
function vexp(b: Body, t: number[]): void {
  const [x, k, hi, lo, r, tt, c] = t;
  b.op(b.constant(-708));
  b.op(OP.max);
  b.op(b.constant(709));
  b.op(OP.min);
  b.set(x);
  // kf = nearest(x / ln2) via the 1.5 * 2^52 trick; its bits hold k.
  b.get(x);
  b.op(b.constant(INV_LN2));
  b.op(OP.mul);
  b.op(b.constant(MAGIC));
  b.op(OP.add);
  b.set(k); // k + MAGIC (bits: k in the low bits)
  b.get(x);
  b.get(k);
  b.op(b.constant(MAGIC));
  b.op(OP.sub);
  b.set(tt); // kf
  b.get(tt);
  b.op(b.constant(LN2_HI));
  b.op(OP.mul);
  b.op(OP.sub);
  b.set(hi); // x - kf ln2_hi
  b.get(tt);
  b.op(b.constant(LN2_LO));
  b.op(OP.mul);
  b.set(lo);
  b.get(hi);
  b.get(lo);
  b.op(OP.sub);
  b.set(r);
  b.get(r);
  b.get(r);
  b.op(OP.mul);
  b.set(tt); // t = r^2
  // c = r - t (P1 + t (P2 + t (P3 + t (P4 + t P5))))
  b.get(r);
  b.get(tt);
  b.op(b.fma ? b.constant(EXP_P[4]) : splatConst(EXP_P[4]));
  for (let i = 3; i >= 0; i--) {
    b.get(tt);
    if (b.fma) {
      b.op(b.constant(EXP_P[i]));
      b.op(OP.madd);
    } else {
      b.op(OP.mul);
      b.op(b.constant(EXP_P[i]));
      b.op(OP.add);
    }
  }
  b.op(OP.mul);
  b.op(OP.sub);
  b.set(c);
  // y = 1 - ((lo - (r c) / (2 - c)) - hi)
  b.op(b.constant(1));
  b.get(lo);
  b.get(r);
  b.get(c);
  b.op(OP.mul);
  b.op(b.constant(2));
  b.get(c);
  b.op(OP.sub);
  b.op(OP.div);
  b.op(OP.sub);
  b.get(hi);
  b.op(OP.sub);
  b.op(OP.sub);
  // times 2^k: add k << 52 to the exponent bits.
  b.get(k);
  b.code.push(0x41, ...s32(52));
  b.op(OP.i64shl);
  b.op(OP.i64add);
}

const UNSUPPORTED = Symbol("unsupported");

/** The function body (locals and code) of the point loop, or null. */
function genBody(
  g: Gen,
  weighted: boolean,
  q: number,
  fma: boolean,
): number[] | null {
  const loop = new PointLoop(g, weighted, q, new Body(fma));
  try {
    loop.emitLoop();
  } catch (e) {
    if (e === UNSUPPORTED) return null;
    throw e;
  }
  return loop.finish();
}

/**
 * The point loop of one kernel function: two points per iteration, the
 * model's per-row instructions, the residual, the Jacobian columns, and the
 * accumulated cost, J^T r and J^T J in vector locals.
 */
class PointLoop {
  readonly #invLocal = new Map<number, number>();
  readonly #varLocal: Map<number, number>;
  readonly #tmpLocal: Map<number, number>;
  readonly #expTmp: number[];
  /** Per-point column locals (-1 for constant columns). */
  readonly #col: number[];
  readonly #r: number;
  readonly #wl: number;
  readonly #acc: number;
  readonly #gAcc: number[];
  readonly #hAcc = new Map<number, number>();
  readonly #yOff: number;
  readonly #wOff: number;

  constructor(
    readonly g: Gen,
    readonly weighted: boolean,
    readonly q: number,
    readonly b: Body,
  ) {
    const { plan } = g;
    this.#varLocal = new Map(plan.vars.map((v) => [v, b.newLocal()]));
    this.#tmpLocal = new Map(plan.rowIndex.map((i) => [i, b.newLocal()]));
    this.#expTmp = Array.from({ length: 7 }, () => b.newLocal());
    this.#col = plan.leaves.map((
      l,
    ) => (typeof l === "string" ? -1 : b.newLocal()));
    this.#r = b.newLocal();
    this.#wl = b.newLocal();
    this.#acc = b.newLocal();
    this.#gAcc = plan.leaves.map((l) => (l === "0" ? -1 : b.newLocal()));
    const nV = plan.vars.length === 0 ? 0 : Math.max(...plan.vars) + 1;
    this.#yOff = DATA + nV * g.stride;
    this.#wOff = this.#yOff + g.stride;
  }

  /** The local holding an invariant (splatted before the loop). */
  #inv(js: string): number {
    const s = slot(this.g, js);
    let l = this.#invLocal.get(s);
    if (l === undefined) {
      l = this.b.newLocal();
      this.#invLocal.set(s, l);
    }
    return l;
  }

  #push(o: SsaOperand): void {
    const b = this.b;
    if (o.kind === "var") b.get(this.#varLocal.get(o.index)!);
    else if (o.kind === "tmp" && this.g.dep[o.index]) {
      b.get(this.#tmpLocal.get(o.index)!);
    } else b.get(this.#inv(jsCodegen.operand(o)));
  }

  /** The loop over pairs of points, then the odd last point. */
  emitLoop(): void {
    const b = this.b;
    // end = 16 * floor(n / 2); i walks the byte offset of each pair.
    b.get(0);
    b.code.push(0x41, 1, 0x76, 0x41, 4, 0x74);
    b.set(2);
    b.code.push(0x02, 0x40); // block
    b.get(1);
    b.get(2);
    b.code.push(0x4f, 0x0d, 0); // i >= end: br_if 0
    b.code.push(0x03, 0x40); // loop
    this.#pair(false);
    b.get(1);
    b.code.push(0x41, 16, 0x6a, 0x22, 1); // i += 16 (tee)
    b.get(2);
    b.code.push(0x49, 0x0d, 0, 0x0b, 0x0b); // i < end: br_if loop; end; end
    b.get(0);
    b.code.push(0x41, 1, 0x71, 0x04, 0x40); // if (n & 1)
    this.#pair(true);
    b.code.push(0x0b);
  }

  /** One pair of points; `mk`: the second lane is padding (masked). */
  #pair(mk: boolean): void {
    this.#rowValues();
    if (this.weighted) {
      this.b.get(1);
      this.b.op(OP.load(this.#wOff));
      this.b.set(this.#wl);
    }
    this.#columns(mk);
    this.#residual(mk);
    this.#accumulate();
  }

  /** The variables loaded and the model's per-row instructions. */
  #rowValues(): void {
    const { b, g } = this;
    for (const v of g.plan.vars) {
      b.get(1);
      b.op(OP.load(DATA + v * g.stride));
      b.set(this.#varLocal.get(v)!);
    }
    for (const i of g.plan.rowIndex) {
      const ins = g.ssa.instructions[i];
      if (ins.kind === "neg") {
        this.#push(ins.arg);
        b.op(OP.neg);
      } else if (ins.kind === "bin") {
        if (ins.op === "^") throw UNSUPPORTED;
        this.#push(ins.left);
        const rcp = g.plan.rcpOf.get(i);
        if (rcp !== undefined) {
          b.get(this.#inv(rcp));
          b.op(OP.mul);
        } else {
          this.#push(ins.right);
          b.op({ "+": OP.add, "-": OP.sub, "*": OP.mul, "/": OP.div }[ins.op]);
        }
      } else if (
        ins.args.length === 1 && ["exp", "sqrt", "abs"].includes(ins.fn)
      ) {
        this.#push(ins.args[0]);
        if (ins.fn === "exp") vexp(b, this.#expTmp);
        else b.op(ins.fn === "sqrt" ? OP.sqrt : OP.abs);
      } else throw UNSUPPORTED;
      b.set(this.#tmpLocal.get(i)!);
    }
  }

  /** Times w when weighted, times the padding mask in the last pair when not. */
  #weighOrMask(mk: boolean): void {
    const b = this.b;
    if (this.weighted) {
      b.get(this.#wl);
      b.op(OP.mul);
    } else if (mk) {
      b.op([...simd(0x0c), ...f64Bytes(1), ...f64Bytes(0)]);
      b.op(OP.mul);
    }
  }

  /** The Jacobian columns' per-point values. */
  #columns(mk: boolean): void {
    this.g.plan.leaves.forEach((l, a) => {
      if (typeof l === "string") return;
      l.forEach((o, j) => {
        this.#push(o);
        if (j > 0) this.b.op(OP.mul);
      });
      this.#weighOrMask(mk);
      this.b.set(this.#col[a]);
    });
  }

  #residual(mk: boolean): void {
    const b = this.b;
    this.#push(this.g.ssa.outputs[0]);
    b.get(1);
    b.op(OP.load(this.#yOff));
    b.op(OP.sub);
    this.#weighOrMask(mk);
    b.set(this.#r);
  }

  /** target += A * B (B null: target += A). */
  #addTo(target: number, A: () => void, B: (() => void) | null): void {
    const b = this.b;
    if (B !== null && b.fma) {
      A();
      B();
      b.get(target);
      b.op(OP.madd);
    } else {
      b.get(target);
      A();
      if (B !== null) {
        B();
        b.op(OP.mul);
      }
      b.op(OP.add);
    }
    b.set(target);
  }

  /** Cost, J^T r and the upper triangle of J^T J (columns of 1 spared). */
  #accumulate(): void {
    const { b, q, weighted } = this;
    const leaves = this.g.plan.leaves;
    const one = (a: number) => leaves[a] === "1";
    const pushCol = (a: number) => () =>
      one(a) ? b.get(this.#wl) : b.get(this.#col[a]);
    const getR = () => b.get(this.#r);
    this.#addTo(this.#acc, getR, getR);
    for (let a = 0; a < q; a++) {
      if (leaves[a] === "0") continue;
      if (one(a) && !weighted) this.#addTo(this.#gAcc[a], getR, null);
      else this.#addTo(this.#gAcc[a], pushCol(a), getR);
      for (let c = a; c < q; c++) {
        if (leaves[c] === "0") continue;
        if (one(a) && one(c) && !weighted) continue;
        const k = packedIndex(a, c, q);
        if (!this.#hAcc.has(k)) this.#hAcc.set(k, b.newLocal());
        const h = this.#hAcc.get(k)!;
        if (!weighted && one(a)) {
          this.#addTo(h, () => b.get(this.#col[c]), null);
        } else if (!weighted && one(c)) {
          this.#addTo(h, () => b.get(this.#col[a]), null);
        } else this.#addTo(h, pushCol(a), pushCol(c));
      }
    }
  }

  /** The sums stored, the invariants splatted before the loop, the locals. */
  finish(): number[] {
    const { b, q } = this;
    const store = (local: number, at: number) => {
      b.code.push(0x41, 0);
      b.get(local);
      b.op(OP.lane(0));
      b.get(local);
      b.op(OP.lane(1));
      b.code.push(0xa0, 0x39, 3, ...u32(OUT + 8 * at));
    };
    store(this.#acc, 0);
    this.#gAcc.forEach((l, a) => l >= 0 && store(l, 1 + a));
    for (const [k, l] of this.#hAcc) store(l, 1 + q + k);
    b.code.push(0x0b);
    const pre: number[] = [];
    for (const [v, l] of b.consts) pre.push(...splatConst(v), 0x21, ...u32(l));
    for (const [s, l] of this.#invLocal) {
      pre.push(0x41, 0, 0x2b, 3, ...u32(8 * s), ...OP.splat, 0x21, ...u32(l));
    }
    const locals = vec([[...u32(2), I32], [...u32(b.nLocals), V128]]);
    return [...locals, ...pre, ...b.code];
  }
}

/** The module's bytes: memory "m", functions "u" (no weights) and "w". */
function moduleBytes(
  bodies: number[][],
  pages: number,
): Uint8Array<ArrayBuffer> {
  const type = [0x60, ...vec([[I32]]), ...vec([])];
  const bytes = [
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, vec([type])),
    ...section(3, vec(bodies.map(() => [0]))),
    ...section(5, vec([[0x00, ...u32(pages)]])),
    ...section(
      7,
      vec([
        [1, 0x6d, 0x02, 0],
        [1, 0x75, 0x00, 0],
        [1, 0x77, 0x00, 1],
      ]),
    ),
    ...section(10, vec(bodies.map((b) => [...u32(b.length), ...b]))),
  ];
  return new Uint8Array(bytes);
}

/**
 * Source of the WebAssembly kernel of a least-squares problem with the
 * linear loss (a function expression with the JavaScript kernel's
 * contract, and a `reset()` that forgets the data it copied; its loop
 * invariants need the `helpers` of `batchKernelSources` in scope, as the
 * JavaScript kernel does, e.g. `fastExp` for `exp(b)`), or null
 * when the model's per-point program uses a function it does not have or
 * WebAssembly SIMD is not available.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { model, modelSsa } from "@nlsq/nlsq/model";
 * import { wasmKernelSource } from "./_wasm_kernel.ts";
 * const m = model("a * exp(-b * x)");
 * const src = wasmKernelSource({
 *   ssa: modelSsa(m), nParams: 2, free: [0, 1], estimator: "lse",
 *   loss: "linear", fScale: 1,
 * }, 3)!;
 * const kernel = new Function(`return ${src};`)();
 * const H = new Float64Array(3), G = new Float64Array(2);
 * const x = new Float64Array([0, 1, 2]), y = new Float64Array([2, 1, 0.5]);
 * const cost = kernel([x], 0, y, 0, null, 0, 3, new Float64Array([2, Math.LN2]), 0, H, 0, G, 0);
 * assert.ok(Math.abs(cost) < 1e-30); // an exact fit
 * assert.ok(Math.abs(H[0] - (1 + 0.25 + 0.0625)) < 1e-15); // sum exp(-2 b x)
 * ```
 */
export function wasmKernelSource(
  spec: KernelSpec,
  nPoints: number,
  fused: readonly boolean[] = [true, false],
): string | null {
  if (spec.estimator !== "lse" || spec.loss !== "linear") return null;
  if (typeof WebAssembly === "undefined") return null;
  const plan = kernelPlan(spec);
  const q = spec.free.length;
  const stride = 16 * Math.ceil((nPoints + 2) / 2);
  const g: Gen = {
    ssa: spec.ssa,
    plan,
    dep: variableDependence(spec.ssa),
    slots: [],
    slotOf: new Map(),
    stride,
  };
  const nV = plan.vars.length === 0 ? 0 : Math.max(...plan.vars) + 1;
  const pages = Math.ceil((DATA + (nV + 2) * stride) / 65536);
  // Fused multiply-adds where the runtime has relaxed SIMD, else plain
  // (`fused`: the variants to try, in order).
  for (const fma of fused) {
    const u = genBody(g, false, q, fma), w = genBody(g, true, q, fma);
    if (u === null || w === null) return null;
    if (
      8 * g.slots.length > OUT || 8 * (1 + q + (q * (q + 1)) / 2) > DATA - OUT
    ) {
      return null;
    }
    const bytes = moduleBytes([u, w], pages);
    if (WebAssembly.validate(bytes)) {
      return wrapperSource(spec, plan, g, bytes, nV);
    }
  }
  return null;
}

/** The JavaScript around the module (see {@linkcode wasmKernelSource}). */
function wrapperSource(
  spec: KernelSpec,
  plan: KernelPlan,
  g: Gen,
  bytes: Uint8Array,
  nV: number,
): string {
  const q = spec.free.length, o = OUT / 8, st = g.stride / 8;
  const yb = DATA / 8 + nV * st, wb = yb + st;
  const times = (...ks: (string | null)[]) => {
    const f = ks.filter((k) => k !== null);
    return f.length ? `${f.join(" * ")} * ` : "";
  };
  const zero = (a: number) => plan.leaves[a] === "0";
  const one = (a: number) => plan.leaves[a] === "1";
  const store: string[] = [];
  for (let a = 0; a < q; a++) {
    for (let c = a; c < q; c++) {
      const k = packedIndex(a, c, q);
      const h = zero(a) || zero(c)
        ? "0"
        : one(a) && one(c)
        ? `(w === null ? n : F[${o + 1 + q + k}])`
        : `F[${o + 1 + q + k}]`;
      store.push(`H[ho + ${k}] = ${times(plan.scale[a], plan.scale[c])}${h};`);
    }
  }
  for (let a = 0; a < q; a++) {
    const v = zero(a) ? "0" : `F[${o + 1 + a}]`;
    store.push(`G[go + ${a}] = ${times(plan.scale[a])}${v};`);
  }
  const copy = (dst: number, src: string, at: string, pad: string) =>
    `{ const b = ${dst}; for (let i = 0; i < n; i++) F[b + i] = ${src}[${at} + i]; F[b + n] = ${pad}; }`;
  const body = [
    ...paramLines(spec.nParams),
    ...plan.hoisted,
    ...g.slots.map((js, s) => `F[${s}] = ${js};`),
    "if (X !== lx || xo !== lxo || n !== ln) {",
    ...plan.vars.map((v) => {
      const b = DATA / 8 + v * st;
      return `  ${copy(b, `X[${v}]`, "xo", `F[${b} + n - 1]`)}`;
    }),
    "  lx = X;",
    "  lxo = xo;",
    "}",
    "if (y !== ly || yo !== lyo || n !== ln) {",
    `  ${copy(yb, "y", "yo", "0")}`,
    "  ly = y;",
    "  lyo = yo;",
    "}",
    "if (w !== null && (w !== lw || wo !== lwo || n !== ln)) {",
    `  ${copy(wb, "w", "wo", "0")}`,
    "  lw = w;",
    "  lwo = wo;",
    "}",
    "ln = n;",
    "if (w === null) KU(n);",
    "else KW(n);",
    ...store,
    `return 0.5 * F[${o}];`,
  ];
  return [
    "(() => {",
    `  const inst = new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array([${
      bytes.join(",")
    }])), {});`,
    "  const F = new Float64Array(inst.exports.m.buffer);",
    "  const KU = inst.exports.u, KW = inst.exports.w;",
    "  let lx = null, lxo = -1, ly = null, lyo = -1, lw = null, lwo = -1, ln = -1;",
    "  const wasmKernel = function (X, xo, y, yo, w, wo, n, P, po, H, ho, G, go) {",
    ...body.map((l) => "    " + l),
    "  };",
    "  // Forgets the copied data (a chunk's buffers are reused for the next).",
    "  wasmKernel.reset = () => {",
    "    lx = null;",
    "    ly = null;",
    "    lw = null;",
    "    ln = -1;",
    "  };",
    "  return wasmKernel;",
    "})()",
  ].join("\n");
}
