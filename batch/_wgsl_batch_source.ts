/**
 * Code generation of the WebGPU batch kernel: one WGSL program that runs
 * whole fits on the device, one fit per invocation. It is the CPU engine's
 * Levenberg-Marquardt (`_lm_chunk.ts`, unrolled as `_iterate_source.ts` and
 * `_step_source.ts` do) written in WGSL: the same damping (Nielsen's rule,
 * mu raised tenfold when a pivot fails), Moré's column scaling, the L D L^T
 * solve of the damped normal equations in registers, bounds by an active
 * set and projection, and scipy's termination tests, so that in f64 a fit
 * takes the same steps as on the CPU. The model's value and derivatives
 * come from its SSA program (`gpu/wgsl_codegen.ts`'s emitter, the one the
 * evaluator kernels use), and the loop over a fit's points is unrolled
 * (by {@linkcode POINT_UNROLL} unless told).
 *
 * Lavapipe ends a shader loop after 65535 iterations counted over the whole
 * invocation (an inner loop's count does not restart with the outer loop),
 * so a dispatch runs at most `cfg.iters` iterations of every fit and keeps
 * the state of an unfinished fit in its record; the host dispatches again
 * until every fit is done (one dispatch on hardware).
 *
 * Bindings (group 0): 0 `dat` (read): the chunk's per-fit columns, y then
 * the x columns (per-fit x) then sigma (per-fit sigma), point-major: value
 * (column c, point i, fit k) at `(c * n + i) * cnt + k`, so neighbouring
 * invocations read neighbouring values; 1 `par` (read): per-fit p0, lower,
 * upper blocks (`cnt * p` each, those that are per fit); 2 `shr` (read):
 * the header `[ftol, xtol, gtol, Infinity, NaN, 0, 0, 0]`, then the shared
 * x columns, shared weights 1/sigma, shared p0, lower, upper; 3 `sta`
 * (read-write, zeroed before the first dispatch): one record of
 * {@linkcode BatchRecord} per fit; 4 the uniform `[cnt, iters, maxNfev, 0]`.
 *
 * @module
 */

import type { Ssa } from "../model/ssa.ts";
import { liveInstructions, variableDependence } from "../model/ssa_analysis.ts";
import { type Precision, wgslSsaEmitter } from "../gpu/wgsl_codegen.ts";
import { wgslLiteral, wgslMathLibrary } from "../gpu/_wgsl_math.ts";
import { packedIndex } from "./_kernel_source.ts";

/** Points per iteration of the point loop. */
export const POINT_UNROLL = 4;

/** Largest number of free parameters the kernel is generated for. */
export const MAX_GPU_FREE = 12;

/** Header values of the `shr` buffer before the shared arrays. */
export const SHARED_HEADER = 8;

/** Status of a fit the kernel left to the CPU (bad points to omit). */
export const STATUS_TO_CPU = 99;

/** What the kernel is generated for. */
export interface BatchWgslSpec {
  /** The model's SSA: output 0 is f, output 1 + j is d f / d p_j. */
  readonly ssa: Ssa;
  readonly nParams: number;
  readonly nVars: number;
  readonly nPoints: number;
  /** Indices of the free parameters. */
  readonly free: readonly number[];
  readonly precision: Precision;
  readonly bounded: boolean;
  readonly boundsPerFit: boolean;
  readonly p0PerFit: boolean;
  readonly xPerFit: boolean;
  /** Shared weights (1/sigma) in `shr`. */
  readonly weightShared: boolean;
  readonly sigmaPerFit: boolean;
  /** nanPolicy "omit": a fit with bad points goes to the CPU. */
  readonly omit: boolean;
  readonly workgroupSize: number;
  /** Points per pass of the point loop (default {@linkcode POINT_UNROLL}). */
  readonly unroll?: number;
}

/** Offsets in a fit's record of the `sta` buffer. */
export interface BatchRecord {
  /** Values per record. */
  readonly size: number;
  readonly popt: number;
  readonly perr: number;
  readonly cost: number;
  readonly rsq: number;
  readonly nfev: number;
  readonly nit: number;
  readonly status: number;
  readonly flags: number;
  /** 0 not started, 1 running, 2 finished. */
  readonly phase: number;
}

/** Offsets in the `shr` buffer and columns of `dat` and `par`. */
export interface BatchLayout {
  readonly record: BatchRecord;
  /** Values of `shr`. */
  readonly sharedSize: number;
  readonly sharedX: number;
  readonly sharedW: number;
  readonly sharedP0: number;
  readonly sharedLower: number;
  readonly sharedUpper: number;
  /** Columns of `dat` per fit (y, per-fit x, per-fit sigma). */
  readonly dataColumns: number;
  /** Blocks of `par` (per-fit p0, lower, upper). */
  readonly paramBlocks: number;
}

/** A generated batch kernel. */
export interface BatchWgsl {
  readonly code: string;
  readonly layout: BatchLayout;
}

function layoutOf(s: BatchWgslSpec): BatchLayout {
  const p = s.nParams, q = s.free.length, n = s.nPoints;
  const P2 = (q * (q + 1)) / 2;
  const base = 2 * p;
  const record: BatchRecord = {
    size: 2 * p + 10 + P2 + 2 * q,
    popt: 0,
    perr: p,
    cost: base,
    rsq: base + 1,
    nfev: base + 2,
    nit: base + 3,
    status: base + 4,
    flags: base + 5,
    phase: base + 6,
  };
  let o = SHARED_HEADER;
  const take = (len: number, used: boolean) => {
    const at = o;
    if (used) o += len;
    return used ? at : -1;
  };
  const sharedX = take(s.nVars * n, !s.xPerFit);
  const sharedW = take(n, s.weightShared);
  const sharedP0 = take(p, !s.p0PerFit);
  const sharedLower = take(p, s.bounded && !s.boundsPerFit);
  const sharedUpper = take(p, s.bounded && !s.boundsPerFit);
  return {
    record,
    sharedSize: o,
    sharedX,
    sharedW,
    sharedP0,
    sharedLower,
    sharedUpper,
    dataColumns: 1 + (s.xPerFit ? s.nVars : 0) + (s.sigmaPerFit ? 1 : 0),
    paramBlocks: (s.p0PerFit ? 1 : 0) + (s.bounded && s.boundsPerFit ? 2 : 0),
  };
}

function indent(lines: readonly string[], n: number): string[] {
  return lines.map((l) => " ".repeat(n) + l);
}

/** The generator of one kernel (closures over the spec). */
class Generator {
  readonly s: BatchWgslSpec;
  readonly T: Precision;
  readonly p: number;
  readonly q: number;
  readonly n: number;
  readonly P2: number;
  readonly lay: BatchLayout;
  readonly used = new Set<string>();
  readonly em;
  readonly dep: boolean[];

  constructor(s: BatchWgslSpec) {
    this.s = s;
    this.T = s.precision;
    this.p = s.nParams;
    this.q = s.free.length;
    this.n = s.nPoints;
    this.P2 = (this.q * (this.q + 1)) / 2;
    this.lay = layoutOf(s);
    this.em = wgslSsaEmitter(this.T, this.used);
    this.dep = variableDependence(s.ssa);
  }

  L(v: number): string {
    return wgslLiteral(v, this.T);
  }

  /** The loop over the points: `body(i)` emitted `unroll` times per pass. */
  pointLoop(body: (i: string) => string[]): string[] {
    const U = this.s.unroll ?? POINT_UNROLL,
      nb = Math.floor(this.n / U),
      rest = this.n % U;
    const out: string[] = [];
    if (nb > 0) {
      out.push(`for (var b = 0u; b < ${nb}u; b++) {`);
      for (let u = 0; u < U; u++) {
        out.push("  {", ...indent(body(`(b * ${U}u + ${u}u)`), 4), "  }");
      }
      out.push("}");
    }
    for (let u = 0; u < rest; u++) {
      out.push("{", ...indent(body(`${nb * U + u}u`), 2), "}");
    }
    return out;
  }

  /** Per-fit column c at point i. */
  col(c: number, i: string): string {
    return `dat[(${c}u * ${this.n}u + ${i}) * cnt + dk]`;
  }

  x(v: number, i: string): string {
    return this.s.xPerFit
      ? this.col(1 + v, i)
      : `shr[${this.lay.sharedX + v * this.n}u + ${i}]`;
  }

  sigmaCol(): number {
    return 1 + (this.s.xPerFit ? this.s.nVars : 0);
  }

  /**
   * Instructions (live for `roots`) split into per-call and per-point; a
   * per-point division by a per-call value becomes a product by its
   * reciprocal, computed once (as the CPU kernel does: f64 division is
   * slow on CPUs, and this keeps the two engines' arithmetic alike).
   */
  program(roots: number[]): { hoisted: string[]; row: string[] } {
    const ssa = this.s.ssa;
    const live = liveInstructions(ssa, roots);
    const hoisted: string[] = [], row: string[] = [];
    const rcp = new Map<string, string>();
    ssa.instructions.forEach((ins, i) => {
      if (!live[i]) return;
      if (!this.dep[i]) {
        hoisted.push(this.em.instruction(i, ssa));
        return;
      }
      if (ins.kind === "bin" && ins.op === "/") {
        const d = ins.right;
        const invariant = d.kind !== "var" &&
          (d.kind !== "tmp" || !this.dep[d.index]);
        const key = this.em.operand(d);
        if (invariant && !rcp.has(key)) {
          const name = `rc${rcp.size}`;
          rcp.set(key, name);
          hoisted.push(`let ${name}: ${this.T} = ${this.L(1)} / ${key};`);
        }
      }
      row.push(this.em.instruction(i, ssa, rcp));
    });
    return { hoisted, row };
  }

  params(): string[] {
    return Array.from(
      { length: this.p },
      (_, j) => `let p${j}: ${this.T} = tt[${j}];`,
    );
  }

  varsAt(i: string): string[] {
    return Array.from(
      { length: this.s.nVars },
      (_, v) => `let v${v}: ${this.T} = ${this.x(v, i)};`,
    );
  }

  weightAt(i: string): string | null {
    if (this.s.sigmaPerFit) {
      return `let wv: ${this.T} = ${this.L(1)} / ${
        this.col(this.sigmaCol(), i)
      };`;
    }
    if (this.s.weightShared) {
      return `let wv: ${this.T} = shr[${this.lay.sharedW}u + ${i}];`;
    }
    return null;
  }

  /** `lin()`: cost at tt, J^T J (packed, free) into Ht, J^T r into Gt. */
  linFunction(): string {
    const { q, T, s } = this;
    const roots = [0, ...s.free.map((j) => j + 1)];
    const { hoisted, row } = this.program(roots);
    const op = (k: number) => this.em.operand(s.ssa.outputs[k]);
    const weighted = this.weightAt("0u") !== null;
    const body = (i: string) => {
      const w = this.weightAt(i);
      const L: string[] = [
        ...this.varsAt(i),
        `let yv: ${T} = dat[${i} * cnt + dk];`,
        ...(w ? [w] : []),
        ...row,
        weighted ? `let r = wv * (${op(0)} - yv);` : `let r = ${op(0)} - yv;`,
        "c = c + r * r;",
      ];
      s.free.forEach((j, a) => {
        L.push(
          weighted
            ? `let d${a}: ${T} = wv * ${op(j + 1)};`
            : `let d${a}: ${T} = ${op(j + 1)};`,
        );
      });
      for (let a = 0; a < q; a++) {
        L.push(`g${a} = g${a} + d${a} * r;`);
        for (let b = a; b < q; b++) {
          const k = packedIndex(a, b, q);
          L.push(`h${k} = h${k} + d${a} * d${b};`);
        }
      }
      return L;
    };
    const lines = [
      ...this.params(),
      ...hoisted,
      `var c: ${T} = ${this.L(0)};`,
      ...Array.from({ length: q }, (_, a) => `var g${a}: ${T} = ${this.L(0)};`),
      ...Array.from(
        { length: this.P2 },
        (_, k) => `var h${k}: ${T} = ${this.L(0)};`,
      ),
      ...this.pointLoop(body),
      ...Array.from({ length: this.P2 }, (_, k) => `Ht[${k}] = h${k};`),
      ...Array.from({ length: q }, (_, a) => `Gt[${a}] = g${a};`),
      `return ${this.L(0.5)} * c;`,
    ];
    return `fn lin() -> ${T} {\n${indent(lines, 2).join("\n")}\n}`;
  }

  /** `ssr()`: the unweighted sum of squared residuals at tt. */
  ssrFunction(): string {
    const { T, s } = this;
    const { hoisted, row } = this.program([0]);
    const body = (i: string) => [
      ...this.varsAt(i),
      ...row,
      `let r = dat[${i} * cnt + dk] - ${this.em.operand(s.ssa.outputs[0])};`,
      "c = c + r * r;",
    ];
    const lines = [
      ...this.params(),
      ...hoisted,
      `var c: ${T} = ${this.L(0)};`,
      ...this.pointLoop(body),
      "return c;",
    ];
    return `fn ssr() -> ${T} {\n${indent(lines, 2).join("\n")}\n}`;
  }

  /** Whether Ht, Gt are finite (their sum, as the CPU tests it). */
  finLinFunction(): string {
    const terms = [
      ...Array.from({ length: this.P2 }, (_, k) => `Ht[${k}]`),
      ...Array.from({ length: this.q }, (_, a) => `Gt[${a}]`),
    ];
    return `fn finLin() -> bool {\n  return fin(${terms.join(" + ")});\n}`;
  }

  /** `solve(mu)`: (H + mu D^2) st = -G over the parameters not held. */
  solveFunction(): string {
    const { q } = this;
    const bounded = this.s.bounded;
    const L: string[] = [];
    for (let a = 0; a < q; a++) {
      L.push(`let q${a} = Dg[${a}] * Dg[${a}];`);
      if (bounded) L.push(`let k${a} = blk[${a}];`);
    }
    for (let r = 0; r < q; r++) {
      for (let c = 0; c <= r; c++) {
        const h = `H[${packedIndex(c, r, q)}]`;
        if (r === c) {
          const v = `${h} + mu * q${r}`;
          L.push(
            `var a${r}_${c} = ${bounded ? `select(${v}, q${r}, k${r})` : v};`,
          );
        } else {
          L.push(
            `var a${r}_${c} = ${
              bounded ? `select(${h}, ${this.L(0)}, k${r} || k${c})` : h
            };`,
          );
        }
      }
      const g = `-G[${r}]`;
      L.push(
        `var b${r} = ${bounded ? `select(${g}, ${this.L(0)}, k${r})` : g};`,
      );
    }
    for (let j = 0; j < q; j++) {
      let d = `a${j}_${j}`;
      for (let l = 0; l < j; l++) d += ` - e${j}_${l} * a${j}_${l}`;
      L.push(`let d${j} = ${d};`);
      L.push(`if (!(d${j} > ${this.L(1e-14)} * q${j})) { return false; }`);
      L.push(`let id${j} = ${this.L(1)} / d${j};`);
      for (let i = j + 1; i < q; i++) {
        let e = `a${i}_${j}`;
        for (let l = 0; l < j; l++) e += ` - e${i}_${l} * a${j}_${l}`;
        L.push(`let e${i}_${j} = ${e};`);
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
    for (let a = 0; a < q; a++) L.push(`st[${a}] = b${a};`);
    L.push("return true;");
    return `fn solve(mu: ${this.T}) -> bool {\n${indent(L, 2).join("\n")}\n}`;
  }

  /** Whether free parameter a at value `t` with gradient `g` is held. */
  held(a: number, t: string, g: string): string {
    const j = this.s.free[a];
    return `((${t} <= lo[${j}] && ${g} > ${
      this.L(0)
    }) || (${t} >= up[${j}] && ${g} < ${this.L(0)}))`;
  }

  /** `pgNorm()`: infinity norm of G projected on the box at th. */
  pgNormFunction(): string {
    const L = [`var g: ${this.T} = ${this.L(0)};`];
    this.s.free.forEach((j, a) => {
      const v = `abs(G[${a}])`;
      const upd = `{ let v = ${v}; if (v > g || v != v) { g = v; } }`;
      L.push(
        this.s.bounded
          ? `if (!${this.held(a, `th[${j}]`, `G[${a}]`)}) ${upd}`
          : upd,
      );
    });
    L.push("return g;");
    return `fn pgNorm() -> ${this.T} {\n${indent(L, 2).join("\n")}\n}`;
  }

  /** `initFit()`: checks the data and the start; a status, 100 running. */
  initFunction(): string {
    const { T, s, q, p } = this;
    const L: string[] = [
      "nfev = 0u;",
      "nit = 0u;",
      "flags = 0u;",
      "var good = true;",
      `var sy: ${T} = ${this.L(0)};`,
    ];
    const check = (i: string) => {
      const c = [
        `let y = dat[${i} * cnt + dk];`,
        "if (!fin(y)) { good = false; }",
      ];
      if (s.xPerFit) {
        for (let v = 0; v < s.nVars; v++) {
          c.push(`if (!fin(${this.x(v, i)})) { good = false; }`);
        }
      }
      if (s.sigmaPerFit) {
        c.push(
          `{ let sg = ${this.col(this.sigmaCol(), i)}; if (!(sg > ${
            this.L(0)
          } && sg <= MAXF)) { good = false; } }`,
        );
      }
      c.push("sy = sy + y;");
      return c;
    };
    L.push(...this.pointLoop(check));
    L.push(
      `if (!good) { return ${s.omit ? STATUS_TO_CPU : -5}; }`,
      `let mean = sy / ${this.L(this.n)};`,
      `var s2: ${T} = ${this.L(0)};`,
      ...this.pointLoop((i) => [
        `let d = dat[${i} * cnt + dk] - mean;`,
        "s2 = s2 + d * d;",
      ]),
      "sst = s2;",
    );
    for (let j = 0; j < p; j++) {
      L.push(`if (!fin(th[${j}])) { return -4; }`);
      if (s.bounded) {
        L.push(
          `if (!(th[${j}] >= lo[${j}] && th[${j}] <= up[${j}])) { return -4; }`,
        );
      }
    }
    L.push(
      "tt = th;",
      "let c = lin();",
      "nfev = 1u;",
      "if (!fin(c) || !finLin()) { return -4; }",
      "cst = c;",
      "H = Ht;",
      "G = Gt;",
    );
    for (let a = 0; a < q; a++) {
      const h = `H[${packedIndex(a, a, q)}]`;
      L.push(
        `Dg[${a}] = select(${this.L(1)}, sqrt(${h}), ${h} > ${this.L(0)});`,
      );
    }
    L.push(
      `mu = ${this.L(1e-3)};`,
      `nu = ${this.L(2)};`,
      "if (pgNorm() < gtol) { return 1; }",
      "if (cfg.maxNfev <= 1u) { return 0; }",
      "return 100;",
    );
    return `fn initFit() -> i32 {\n${indent(L, 2).join("\n")}\n}`;
  }

  /** `iterate()`: one Levenberg-Marquardt step; a status, 100 running. */
  iterateFunction(): string {
    const { T, s, q } = this;
    const Z = this.L(0);
    const L: string[] = [];
    s.free.forEach((j, a) => {
      L.push(`let t${a} = th[${j}];`, `let g${a} = G[${a}];`);
      if (s.bounded) L.push(`blk[${a}] = ${this.held(a, `t${a}`, `g${a}`)};`);
    });
    const quad = s.free.map((_, a) => {
      const off = s.free.slice(a + 1).map((_, d) =>
        `H[${packedIndex(a, a + 1 + d, q)}] * s${a + 1 + d}`
      );
      const diag = `H[${packedIndex(a, a, q)}] * s${a}`;
      return off.length
        ? `s${a} * (${diag} + ${this.L(2)} * (${off.join(" + ")}))`
        : `s${a} * ${diag}`;
    }).join(" + ");
    const attempt: string[] = [
      "let m0 = mu;",
      "if (!solve(m0)) {",
      `  mu = select(${this.L(1e-12)}, m0 * ${this.L(10)}, m0 * ${
        this.L(10)
      } > ${this.L(1e-12)});`,
      "  continue;",
      "}",
    ];
    s.free.forEach((j, a) => {
      attempt.push(`var v${a} = t${a} + st[${a}];`);
      if (s.bounded) {
        attempt.push(
          `if (v${a} < lo[${j}]) { v${a} = lo[${j}]; } else if (v${a} > up[${j}]) { v${a} = up[${j}]; }`,
        );
      }
      attempt.push(
        `tt[${j}] = v${a};`,
        `let s${a} = v${a} - t${a};`,
        `st[${a}] = s${a};`,
      );
    });
    attempt.push(
      `let pr = -((${s.free.map((_, a) => `g${a} * s${a}`).join(" + ")}) + ${
        this.L(0.5)
      } * (${quad}));`,
      "if (pr > " + Z + ") { pred = pr; break; }",
      "mu = m0 * nu;",
      `nu = nu * ${this.L(2)};`,
    );
    L.push(
      `var pred: ${T} = ${this.L(-1)};`,
      "for (var attempt = 0u; attempt < 64u; attempt++) {",
      ...indent(attempt, 2),
      "}",
      `if (pred < ${Z}) { flags = flags | 2u; return 1; }`,
      "let ct = lin();",
      "nfev = nfev + 1u;",
      "let c0 = cst;",
      `var actred: ${T} = -kInf;`,
      "if (fin(ct) && finLin()) { actred = c0 - ct; }",
      "let ratio = actred / pred;",
    );
    s.free.forEach((_, a) => {
      const h = `H[${packedIndex(a, a, q)}]`;
      L.push(
        `let u${a} = st[${a}];`,
        `let d${a} = select(kNaN, ${h}, ${h} >= ${Z});`,
      );
    });
    const sum = (f: (a: number) => string) =>
      s.free.map((_, a) => f(a)).join(" + ");
    L.push(
      `let dx = ${sum((a) => `u${a} * u${a}`)};`,
      `let xn = ${sum((a) => `t${a} * t${a}`)};`,
      `let dxs = ${sum((a) => `u${a} * u${a} * d${a}`)};`,
      `let xs = ${sum((a) => `t${a} * t${a} * d${a}`)};`,
      "let ft = ftol * c0;",
      `let ftolOk = (actred < ft && ratio > ${
        this.L(0.25)
      }) || (actred <= ft && -actred <= ft && pred <= ft && ratio <= ${
        this.L(2)
      });`,
      "let xtolOk = sqrt(dx) < xtol * (xtol + sqrt(xn)) && sqrt(dxs) < xtol * (xtol + sqrt(xs));",
      `let accepted = actred > ${Z};`,
      "if (accepted) {",
      ...s.free.map((j) => `  th[${j}] = tt[${j}];`),
      "  H = Ht;",
      "  G = Gt;",
    );
    for (let a = 0; a < q; a++) {
      const h = `Ht[${packedIndex(a, a, q)}]`;
      L.push(
        `  { let n = select(${Z}, sqrt(${h}), ${h} > ${Z}); if (n > Dg[${a}]) { Dg[${a}] = n; } }`,
      );
    }
    L.push(
      "  cst = ct;",
      "  nit = nit + 1u;",
      `  let r = ${this.L(2)} * ratio - ${this.L(1)};`,
      `  let f = ${this.L(1)} - r * r * r;`,
      `  mu = mu * select(${this.L(1 / 3)}, f, f > ${this.L(1 / 3)});`,
      `  nu = ${this.L(2)};`,
      "} else {",
      "  mu = mu * nu;",
      `  nu = nu * ${this.L(2)};`,
      "}",
      "if (ftolOk || xtolOk) { return select(select(3, 2, ftolOk), 4, ftolOk && xtolOk); }",
      "if (accepted && pgNorm() < gtol) { return 1; }",
      "if (nfev >= cfg.maxNfev) { return 0; }",
      "return 100;",
    );
    return `fn iterate() -> i32 {\n${indent(L, 2).join("\n")}\n}`;
  }

  /** `stdErr(o, s2)`: standard errors into the record; false if singular. */
  stdErrFunction(): string {
    const { q, s } = this;
    const rec = this.lay.record;
    const L: string[] = [];
    s.free.forEach((_, a) => {
      L.push(
        `let h${a} = H[${packedIndex(a, a, q)}];`,
        `if (!(h${a} > ${this.L(0)})) { return false; }`,
        `let z${a} = sqrt(h${a});`,
        `let iz${a} = ${this.L(1)} / z${a};`,
      );
    });
    for (let r = 0; r < q; r++) {
      for (let c = 0; c <= r; c++) {
        L.push(
          `var a${r}_${c} = H[${packedIndex(c, r, q)}] * iz${r} * iz${c};`,
        );
      }
    }
    for (let j = 0; j < q; j++) {
      let d = `a${j}_${j}`;
      for (let l = 0; l < j; l++) d += ` - e${j}_${l} * a${j}_${l}`;
      L.push(
        `let d${j} = ${d};`,
        `if (!(d${j} > ${this.L(1e-10)})) { return false; }`,
        `let id${j} = ${this.L(1)} / d${j};`,
      );
      for (let i = j + 1; i < q; i++) {
        let e = `a${i}_${j}`;
        for (let l = 0; l < j; l++) e += ` - e${i}_${l} * a${j}_${l}`;
        L.push(`let e${i}_${j} = ${e};`, `a${i}_${j} = e${i}_${j} * id${j};`);
      }
    }
    for (let a = 0; a < q; a++) {
      const terms = [`id${a}`];
      for (let r = a + 1; r < q; r++) {
        let m = `-a${r}_${a}`;
        for (let l = a + 1; l < r; l++) m += ` - a${r}_${l} * m${l}_${a}`;
        L.push(`let m${r}_${a} = ${m};`);
        terms.push(`m${r}_${a} * m${r}_${a} * id${r}`);
      }
      L.push(
        `sta[o + ${rec.perr + s.free[a]}u] = sqrt((${
          terms.join(" + ")
        }) * s2) * iz${a};`,
      );
    }
    L.push("return true;");
    return `fn stdErr(o: u32, s2: ${this.T}) -> bool {\n${
      indent(L, 2).join("\n")
    }\n}`;
  }

  /** `finish(o, status)`: writes the fit's results into its record. */
  finishFunction(): string {
    const { p, q, s } = this;
    const r = this.lay.record;
    const m = this.n;
    const plain = !s.weightShared && !s.sigmaPerFit;
    const L: string[] = [
      `sta[o + ${r.status}u] = ${this.T}(status);`,
      `sta[o + ${r.nfev}u] = ${this.T}(nfev);`,
      `sta[o + ${r.nit}u] = ${this.T}(nit);`,
      `sta[o + ${r.phase}u] = ${this.L(2)};`,
      "if (status < 0 || status == " + STATUS_TO_CPU + ") {",
      `  for (var j = 0u; j < ${p}u; j++) { sta[o + ${r.popt}u + j] = kNaN; sta[o + ${r.perr}u + j] = kNaN; }`,
      `  sta[o + ${r.cost}u] = kNaN;`,
      `  sta[o + ${r.rsq}u] = kNaN;`,
      `  sta[o + ${r.flags}u] = ${this.T}(flags);`,
      "  return;",
      "}",
      `for (var j = 0u; j < ${p}u; j++) { sta[o + ${r.popt}u + j] = th[j]; sta[o + ${r.perr}u + j] = ${
        this.L(0)
      }; }`,
      `sta[o + ${r.cost}u] = cst;`,
      m > q
        ? `let s2 = ${this.L(2)} * cst / ${this.L(m - q)};`
        : "let s2 = kInf;",
      "if (!stdErr(o, s2)) {",
      ...s.free.map((j) => `  sta[o + ${r.perr + j}u] = kNaN;`),
      "  flags = flags | 1u;",
      "}",
      "tt = th;",
      plain ? `let sr = ${this.L(2)} * cst;` : "let sr = ssr();",
      `sta[o + ${r.rsq}u] = select(kNaN, ${this.L(1)} - sr / sst, sst > ${
        this.L(0)
      });`,
      `sta[o + ${r.flags}u] = ${this.T}(flags);`,
    ];
    return `fn finish(o: u32, status: i32) {\n${indent(L, 2).join("\n")}\n}`;
  }

  /** State kept between dispatches, after the outputs of the record. */
  stateSlots(): { name: string; at: number; u32?: boolean }[] {
    const r = this.lay.record;
    const out: { name: string; at: number; u32?: boolean }[] = [];
    let at = r.phase + 1;
    for (let j = 0; j < this.p; j++) {
      out.push({ name: `th[${j}]`, at: r.popt + j });
    }
    out.push({ name: "cst", at: r.cost });
    out.push({ name: "nfev", at: r.nfev, u32: true });
    out.push({ name: "nit", at: r.nit, u32: true });
    out.push({ name: "flags", at: r.flags, u32: true });
    for (const name of ["mu", "nu", "sst"]) out.push({ name, at: at++ });
    for (let k = 0; k < this.P2; k++) out.push({ name: `H[${k}]`, at: at++ });
    for (let a = 0; a < this.q; a++) out.push({ name: `G[${a}]`, at: at++ });
    for (let a = 0; a < this.q; a++) out.push({ name: `Dg[${a}]`, at: at++ });
    return out;
  }

  saveLoadFunctions(): string {
    const slots = this.stateSlots();
    const save = slots.map((s) =>
      `sta[o + ${s.at}u] = ${s.u32 ? `${this.T}(${s.name})` : s.name};`
    );
    const load = slots.map((s) =>
      `${s.name} = ${s.u32 ? `u32(sta[o + ${s.at}u])` : `sta[o + ${s.at}u]`};`
    );
    return [
      `fn save(o: u32) {\n${
        indent(save, 2).join("\n")
      }\n  sta[o + ${this.lay.record.phase}u] = ${this.L(1)};\n}`,
      `fn load(o: u32) {\n${indent(load, 2).join("\n")}\n}`,
    ].join("\n\n");
  }

  mainFunction(): string {
    const { s, p, lay } = this;
    const r = lay.record;
    const L: string[] = [
      "let k = gid.x + gid.y * nwg.x * " + s.workgroupSize + "u;",
      "if (k >= cfg.cnt) { return; }",
      "dk = k;",
      "cnt = cfg.cnt;",
      "ftol = shr[0];",
      "xtol = shr[1];",
      "gtol = shr[2];",
      "kInf = shr[3];",
      "kNaN = shr[4];",
      `let o = k * ${r.size}u;`,
      `let phase = sta[o + ${r.phase}u];`,
      `if (phase > ${this.L(1.5)}) { return; }`,
    ];
    let block = 0;
    if (s.bounded) {
      for (let j = 0; j < p; j++) {
        if (s.boundsPerFit) {
          const lb = s.p0PerFit ? 1 : 0;
          L.push(
            `lo[${j}] = par[(${lb}u * cnt + k) * ${p}u + ${j}u];`,
            `up[${j}] = par[(${lb + 1}u * cnt + k) * ${p}u + ${j}u];`,
          );
        } else {
          L.push(
            `lo[${j}] = shr[${lay.sharedLower + j}u];`,
            `up[${j}] = shr[${lay.sharedUpper + j}u];`,
          );
        }
      }
    }
    const p0 = (j: number) =>
      s.p0PerFit
        ? `par[(${block}u * cnt + k) * ${p}u + ${j}u]`
        : `shr[${lay.sharedP0 + j}u]`;
    L.push("var status: i32 = 100;", `if (phase < ${this.L(0.5)}) {`);
    for (let j = 0; j < p; j++) L.push(`  th[${j}] = ${p0(j)};`);
    L.push("  status = initFit();", "} else {", "  load(o);", "}");
    block++;
    L.push(
      "tt = th;",
      "var it = 0u;",
      "loop {",
      "  if (status != 100 || it >= cfg.iters) { break; }",
      "  status = iterate();",
      "  it = it + 1u;",
      "}",
      "if (status == 100) { save(o); } else { finish(o, status); }",
    );
    return `@compute @workgroup_size(${s.workgroupSize})\nfn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {\n${
      indent(L, 2).join("\n")
    }\n}`;
  }

  code(): string {
    const { T, p, q, P2 } = this;
    const maxf = T === "f64" ? 1.7976931348623157e308 : 3.4028234663852886e38;
    const fns = [
      this.linFunction(),
      this.ssrFunction(),
      this.finLinFunction(),
      this.solveFunction(),
      this.pgNormFunction(),
      this.initFunction(),
      this.iterateFunction(),
      this.stdErrFunction(),
      this.finishFunction(),
      this.saveLoadFunctions(),
      this.mainFunction(),
    ];
    const head = [
      `// generated by @nlsq/nlsq batch/_wgsl_batch_source.ts: ${T}, ${p} parameters, ${q} free, ${this.n} points`,
      "struct Cfg { cnt: u32, iters: u32, maxNfev: u32, pad: u32 }",
      `@group(0) @binding(0) var<storage, read> dat: array<${T}>;`,
      `@group(0) @binding(1) var<storage, read> par: array<${T}>;`,
      `@group(0) @binding(2) var<storage, read> shr: array<${T}>;`,
      `@group(0) @binding(3) var<storage, read_write> sta: array<${T}>;`,
      "@group(0) @binding(4) var<uniform> cfg: Cfg;",
      `const MAXF: ${T} = ${this.L(maxf)};`,
      "var<private> dk: u32;",
      "var<private> cnt: u32;",
      ...["ftol", "xtol", "gtol", "kInf", "kNaN", "cst", "mu", "nu", "sst"].map(
        (v) => `var<private> ${v}: ${T};`,
      ),
      "var<private> nfev: u32;",
      "var<private> nit: u32;",
      "var<private> flags: u32;",
      `var<private> th: array<${T}, ${p}>;`,
      `var<private> tt: array<${T}, ${p}>;`,
      `var<private> lo: array<${T}, ${p}>;`,
      `var<private> up: array<${T}, ${p}>;`,
      `var<private> H: array<${T}, ${P2}>;`,
      `var<private> Ht: array<${T}, ${P2}>;`,
      `var<private> G: array<${T}, ${q}>;`,
      `var<private> Gt: array<${T}, ${q}>;`,
      `var<private> Dg: array<${T}, ${q}>;`,
      `var<private> st: array<${T}, ${q}>;`,
      `var<private> blk: array<bool, ${q}>;`,
      `fn fin(v: ${T}) -> bool { return abs(v) <= MAXF; }`,
    ];
    // The math library last: `used` is filled while the functions are made.
    return [...head, ...fns, wgslMathLibrary(this.used, T)].join("\n\n");
  }
}

/**
 * The WGSL batch kernel of a problem and the layout of its buffers.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { model, modelSsa } from "@nlsq/nlsq/model";
 * import { batchWgsl } from "./_wgsl_batch_source.ts";
 * const m = model("a * exp(-b * x) + c");
 * const k = batchWgsl({
 *   ssa: modelSsa(m), nParams: 3, nVars: 1, nPoints: 10, free: [0, 1, 2],
 *   precision: "f64", bounded: false, boundsPerFit: false, p0PerFit: true,
 *   xPerFit: false, weightShared: false, sigmaPerFit: false, omit: false,
 *   workgroupSize: 64,
 * });
 * assert.match(k.code, /fn main\(/);
 * assert.strictEqual(k.layout.record.size, 2 * 3 + 10 + 6 + 2 * 3);
 * ```
 */
export function batchWgsl(spec: BatchWgslSpec): BatchWgsl {
  const q = spec.free.length;
  if (!(q >= 1 && q <= MAX_GPU_FREE)) {
    throw new RangeError(
      `the WebGPU batch kernel takes 1 to ${MAX_GPU_FREE} free parameters, got ${q}`,
    );
  }
  const g = new Generator(spec);
  return { code: g.code(), layout: g.lay };
}
