/**
 * Parameters by name (lmfit's `Parameters`): a start, bounds, `vary: false`
 * (fixed) or `expr` (tied to other parameters), per parameter. Fixed values
 * and tied expressions are substituted into the model's AST before
 * differentiation, so the solver sees only the free parameters and the
 * derivatives stay exact; the results are then mapped back to every model
 * parameter (a tied one's error by the delta method).
 *
 * @module
 */

import type { Node } from "../../model/ast.ts";
import type { Model } from "../../model/types.ts";
import { modelFromAst } from "../../model/model.ts";
import { parseExpression } from "../../model/parser.ts";
import { derivative } from "../../model/derivative.ts";
import { simplify } from "../../model/simplify.ts";
import { substituteParams } from "../../model/_substitute.ts";
import { childrenOf } from "../../model/_walk.ts";
import { toVector } from "../../core/_validate.ts";
import type { BoundsInput, NumVec } from "../../core/_validate.ts";

/**
 * One parameter's settings: a number is its start.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { ParamSpec } from "@nlsq/nlsq";
 * const spec: ParamSpec = { value: 1, min: 0 };
 * assert.strictEqual(typeof spec, "object");
 * ```
 */
export type ParamSpec =
  | number
  | {
    /** Start (or the fixed value with `vary: false`). */
    readonly value?: number;
    /** Lower bound (default -Infinity). */
    readonly min?: number;
    /** Upper bound (default Infinity). */
    readonly max?: number;
    /** false: held at `value` (default true). */
    readonly vary?: boolean;
    /** Tied: an expression of other parameters (no variables). */
    readonly expr?: string;
  };

/** Parameters by name. */
export type ParamsInput = Readonly<Record<string, ParamSpec>>;

/**
 * How one parameter took part in a fit: varied (free), held (fixed) or
 * tied to others by an expression, and its bounds (lmfit's `vary`, `expr`,
 * `min`, `max`).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { fit } from "@nlsq/nlsq";
 * import type { ParamSetting } from "@nlsq/nlsq/workflow";
 * const r = await fit("a * x + b", [0, 1, 2], [1, 3, 5], {
 *   params: { a: { value: 1, min: 0 }, b: { value: 1, vary: false } },
 * });
 * const s: ParamSetting = r.paramSettings[1];
 * assert.deepStrictEqual(s, { vary: false, min: -Infinity, max: Infinity });
 * assert.strictEqual(r.paramSettings[0].min, 0);
 * ```
 */
export interface ParamSetting {
  /** Whether the solver varied it (false: fixed, or tied). */
  readonly vary: boolean;
  /** The expression it is tied to (tied parameters only). */
  readonly expr?: string;
  /** Lower bound (-Infinity when none). */
  readonly min: number;
  /** Upper bound (Infinity when none). */
  readonly max: number;
}

/** How a fit's parameters map to the solver's free ones. */
export interface ParamPlan {
  /** The model over the free parameters (the caller's model if all vary). */
  readonly model: Model;
  /** p0 of the free parameters, or undefined when none was given. */
  readonly p0: Float64Array | undefined;
  /** Bounds of the free parameters, or undefined when none were given. */
  readonly bounds: BoundsInput | undefined;
  /** Index of each free parameter in the caller's model. */
  readonly free: readonly number[];
  /** Free values -> every model parameter, in model order. */
  expand(free: Float64Array): Float64Array;
  /** Covariance of the free parameters -> of every model parameter. */
  expandCovariance(cov: number[][], free: Float64Array): number[][];
  /** Every parameter's setting, in model order (for the result). */
  settings(): ParamSetting[];
  /**
   * d theta / d free at `free` (p x q, row-major): a unit row for a free
   * parameter, zeros for a fixed one, a tie's gradient for a tied one.
   */
  jacobian(free: Float64Array): Float64Array;
}

type Resolved = {
  value?: number;
  min: number;
  max: number;
  kind: "free" | "fixed" | "tied";
  expr?: string;
};

/**
 * Resolves `params` (and `p0` / `bounds`, which may also be given, `p0` as
 * an object by name) for a model. Without `params` and with array `p0`
 * everything is as before (an identity plan).
 */
export function resolveParams(
  m: Model,
  options: {
    params?: ParamsInput;
    p0?: NumVec | Readonly<Record<string, number>>;
    bounds?: BoundsInput;
  },
): ParamPlan {
  const names = m.params;
  const p = names.length;
  const byName = options.params !== undefined ||
    (options.p0 !== undefined && !isVector(options.p0));
  if (!byName) {
    return identityPlan(m, options.p0 as NumVec | undefined, options.bounds);
  }
  const specs = resolveSpecs(m, options);
  const tied = tiedAsts(m, specs);
  const free = names.flatMap((_, k) => (specs[k].kind === "free" ? [k] : []));
  if (free.length === 0) {
    throw new RangeError(
      "params: every parameter is fixed or tied; nothing to fit",
    );
  }
  // The free parameters are renumbered 0..q-1 in model order.
  const index = new Map(free.map((k, i) => [k, i]));
  const substituted = (k: number): Node =>
    specs[k].kind === "fixed"
      ? { kind: "num", value: specs[k].value! }
      : specs[k].kind === "tied"
      ? reduce(tied.get(k)!) // over the original indices until reduced
      : { kind: "param", index: index.get(k)! };
  const reduce = (ast: Node) => substituteParams(ast, substituted);
  const allVary = free.length === p;
  const reducedModel = allVary ? m : modelFromAst(
    reduce(m.ast!),
    free.map((k) => names[k]),
    m.variables,
    m.expression ?? "",
  );
  // Tied expressions over the free parameters, and their gradients.
  const tiedFree = new Map(
    [...tied].map(([k, ast]) => [k, simplify(reduce(ast))]),
  );
  const grads = new Map(
    [...tiedFree].map((
      [k, ast],
    ) => [k, free.map((_, i) => simplify(derivative(ast, i)))]),
  );
  const startGiven = specs.some((s) =>
    s.kind === "free" && s.value !== undefined
  );
  const missing = free.filter((k) => specs[k].value === undefined);
  if (startGiven && missing.length > 0) {
    throw new TypeError(
      `params: no start for ${
        missing.map((k) => `'${names[k]}'`).join(", ")
      } (give value, or every start by p0)`,
    );
  }
  const hasBounds = free.some((k) =>
    Number.isFinite(specs[k].min) || Number.isFinite(specs[k].max)
  );
  return {
    model: reducedModel,
    p0: startGiven
      ? Float64Array.from(free, (k) => specs[k].value!)
      : undefined,
    bounds: hasBounds
      ? [free.map((k) => specs[k].min), free.map((k) => specs[k].max)]
      : undefined,
    free,
    expand(x) {
      const out = new Float64Array(p);
      for (let k = 0; k < p; k++) {
        const s = specs[k];
        out[k] = s.kind === "free"
          ? x[index.get(k)!]
          : s.kind === "fixed"
          ? s.value!
          : evaluateAst(tiedFree.get(k)!, x);
      }
      return out;
    },
    jacobian(x) {
      const q = free.length;
      const T = new Float64Array(p * q);
      specs.forEach((s, k) => {
        if (s.kind === "free") T[k * q + index.get(k)!] = 1;
        else if (s.kind === "tied") {
          grads.get(k)!.forEach((g, i) => T[k * q + i] = evaluateAst(g, x));
        }
      });
      return T;
    },
    expandCovariance(cov, x) {
      // T (p x q): d theta_k / d phi_i; full covariance = T C T^T.
      const q = free.length;
      const J = this.jacobian(x);
      const T = names.map((_, k) => J.subarray(k * q, (k + 1) * q));
      return T.map((ti) =>
        T.map((tj) => {
          let sum = 0;
          for (let a = 0; a < q; a++) {
            if (ti[a] === 0) continue;
            for (let b = 0; b < q; b++) {
              if (tj[b] !== 0) sum += ti[a] * cov[a][b] * tj[b];
            }
          }
          return sum;
        })
      );
    },
    settings: () =>
      specs.map(({ kind, expr, min, max }) =>
        kind === "tied"
          ? { vary: false, expr, min, max }
          : { vary: kind === "free", min, max }
      ),
  };
}

function isVector(v: unknown): boolean {
  return Array.isArray(v) || ArrayBuffer.isView(v);
}

function identityPlan(
  m: Model,
  p0: NumVec | undefined,
  bounds: BoundsInput | undefined,
): ParamPlan {
  const p = m.params.length;
  return {
    model: m,
    p0: p0 === undefined ? undefined : toVector(p0, "p0", p),
    bounds,
    free: m.params.map((_, k) => k),
    expand: (x) => x,
    expandCovariance: (cov) => cov,
    settings: () => {
      // Called once the fit has checked the bounds.
      const side = (b: BoundsInput[0] | undefined, dflt: number) =>
        b === undefined
          ? new Array<number>(p).fill(dflt)
          : typeof b === "number"
          ? new Array<number>(p).fill(b)
          : Array.from(b as ArrayLike<number>);
      const lo = side(bounds?.[0], -Infinity);
      const hi = side(bounds?.[1], Infinity);
      return lo.map((min, k) => ({ vary: true, min, max: hi[k] }));
    },
    jacobian: () => {
      const T = new Float64Array(p * p);
      for (let k = 0; k < p; k++) T[k * p + k] = 1;
      return T;
    },
  };
}

/** Every parameter's start, bounds and kind, checked. */
function resolveSpecs(
  m: Model,
  options: {
    params?: ParamsInput;
    p0?: NumVec | Readonly<Record<string, number>>;
    bounds?: BoundsInput;
  },
): Resolved[] {
  const names = m.params;
  const p = names.length;
  if (!m.ast && options.params !== undefined) {
    for (const s of Object.values(options.params)) {
      if (typeof s === "object" && (s.vary === false || s.expr !== undefined)) {
        throw new TypeError(
          'params: fixed and tied parameters need an expression model (model("...")), not a plain function',
        );
      }
    }
  }
  const known = new Set(names);
  const check = (obj: object, what: string) => {
    for (const key of Object.keys(obj)) {
      if (!known.has(key)) {
        throw new TypeError(
          `${what}: unknown parameter '${key}' (the model's parameters: ${
            names.join(", ")
          })`,
        );
      }
    }
  };
  const p0 = options.p0;
  let starts: (number | undefined)[] = new Array(p).fill(undefined);
  if (p0 !== undefined) {
    if (isVector(p0)) starts = Array.from(toVector(p0 as NumVec, "p0", p));
    else {
      check(p0, "p0");
      starts = names.map((n) => (p0 as Record<string, number>)[n]);
      starts.forEach((v, k) => {
        if (v !== undefined && (typeof v !== "number" || !Number.isFinite(v))) {
          throw new TypeError(
            `p0.${names[k]} must be a finite number, got ${v}`,
          );
        }
      });
    }
  }
  let lower = new Array(p).fill(-Infinity), upper = new Array(p).fill(Infinity);
  if (options.bounds !== undefined) {
    const [lo, hi] = options.bounds;
    lower = typeof lo === "number"
      ? new Array(p).fill(lo)
      : Array.from(toVector(lo, "bounds[0]", p, true));
    upper = typeof hi === "number"
      ? new Array(p).fill(hi)
      : Array.from(toVector(hi, "bounds[1]", p, true));
  }
  const params = options.params ?? {};
  if (typeof params !== "object" || params === null || Array.isArray(params)) {
    throw new TypeError(
      "params must be an object of parameter settings by name",
    );
  }
  check(params, "params");
  return names.map((name, k): Resolved => {
    const raw = params[name];
    const spec = typeof raw === "number" ? { value: raw } : raw ?? {};
    if (typeof spec !== "object" || spec === null) {
      throw new TypeError(
        `params.${name} must be a number or { value, min, max, vary, expr }`,
      );
    }
    for (const key of Object.keys(spec)) {
      if (!["value", "min", "max", "vary", "expr"].includes(key)) {
        throw new TypeError(
          `params.${name}: unknown setting '${key}' (value, min, max, vary, expr)`,
        );
      }
    }
    const value = spec.value ?? starts[k];
    const min = spec.min ?? lower[k], max = spec.max ?? upper[k];
    for (
      const [key, v] of [["value", value], ["min", min], ["max", max]] as const
    ) {
      if (
        v !== undefined &&
        (typeof v !== "number" || Number.isNaN(v) ||
          (key === "value" && !Number.isFinite(v)))
      ) {
        throw new TypeError(
          `params.${name}.${key} must be a ${
            key === "value" ? "finite " : ""
          }number, got ${v}`,
        );
      }
    }
    if (spec.vary !== undefined && typeof spec.vary !== "boolean") {
      throw new TypeError(
        `params.${name}.vary must be true or false, got ${spec.vary}`,
      );
    }
    if (!(min < max)) {
      throw new RangeError(
        `params.${name}: min (${min}) must be below max (${max})`,
      );
    }
    if (value !== undefined && !(value >= min && value <= max)) {
      throw new RangeError(
        `params.${name}: value ${value} is outside [${min}, ${max}]`,
      );
    }
    if (spec.expr !== undefined) {
      if (typeof spec.expr !== "string" || spec.expr.trim() === "") {
        throw new TypeError(
          `params.${name}.expr must be a non-empty expression`,
        );
      }
      return { value, min, max, kind: "tied", expr: spec.expr };
    }
    if (spec.vary === false) {
      if (value === undefined) {
        throw new TypeError(
          `params.${name}: a fixed parameter (vary: false) needs a value`,
        );
      }
      return { value, min, max, kind: "fixed" };
    }
    return { value, min, max, kind: "free" };
  });
}

/**
 * The tied parameters' expressions as ASTs over the model's parameters,
 * with ties to other tied parameters resolved (a cycle is an error).
 */
function tiedAsts(m: Model, specs: Resolved[]): Map<number, Node> {
  const names = m.params;
  const parsed = new Map<number, Node>();
  specs.forEach((s, k) => {
    if (s.kind !== "tied") return;
    let ast: Node;
    try {
      ast =
        parseExpression(s.expr!, { params: names, variables: m.variables }).ast;
    } catch (e) {
      throw new TypeError(`params.${names[k]}.expr: ${(e as Error).message}`);
    }
    for (const n of nodesOf(ast)) {
      if (n.kind === "var") {
        throw new TypeError(
          `params.${names[k]}.expr names the variable '${
            m.variables[n.index]
          }'; a tie may use parameters only`,
        );
      }
    }
    parsed.set(k, ast);
  });
  // Resolve ties to tied parameters, depth first, detecting cycles.
  const done = new Map<number, Node>();
  const visiting = new Set<number>();
  const resolve = (k: number, path: number[]): Node => {
    const hit = done.get(k);
    if (hit) return hit;
    if (visiting.has(k)) {
      const cycle = [...path.slice(path.indexOf(k)), k].map((i) => names[i]);
      throw new RangeError(
        `params: tied expressions form a cycle: ${cycle.join(" -> ")}`,
      );
    }
    visiting.add(k);
    const out = substituteParams(
      parsed.get(k)!,
      (j) => (specs[j].kind === "tied" ? resolve(j, [...path, k]) : null),
    );
    visiting.delete(k);
    done.set(k, out);
    return out;
  };
  for (const k of parsed.keys()) resolve(k, []);
  return done;
}

function nodesOf(ast: Node): Node[] {
  const out: Node[] = [];
  const stack = [ast];
  while (stack.length > 0) {
    const n = stack.pop()!;
    out.push(n);
    stack.push(...childrenOf(n));
  }
  return out;
}

/** Evaluates a parameter-only expression at `x` (free parameters). */
function evaluateAst(ast: Node, x: Float64Array): number {
  // The gradient of a linear tie is a constant: no model to evaluate.
  if (ast.kind === "num") return ast.value;
  const m = modelFromAstCache(ast, x.length);
  return m.evaluate([new Float64Array(1)], x)[0];
}

const evalCache = new WeakMap<Node, Model>();
function modelFromAstCache(ast: Node, q: number): Model {
  let m = evalCache.get(ast);
  if (!m) {
    m = modelFromAst(
      ast,
      Array.from({ length: q }, (_, i) => `p${i}`),
      ["x"],
      "",
    );
    evalCache.set(ast, m);
  }
  return m;
}
