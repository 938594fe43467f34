/**
 * The stacked problem of a global fit: every dataset opened as its own fit
 * would open it (its strategy, backend and scaling: in memory, chunked,
 * streamed from a source), and one evaluator over the global free
 * parameters that evaluates the datasets concurrently and carries each
 * one's linearization to the global parameters (the block-structured
 * Jacobian: a dataset's rows touch only its own and the shared
 * parameters). Global parameters are resolved by fit's params machinery
 * (starts, bounds, `vary: false`, ties across datasets).
 *
 * @module
 */

import type { Node } from "../model/ast.ts";
import type { Model } from "../model/types.ts";
import { modelFromAst } from "../model/model.ts";
import type { Evaluator } from "../core/linearization.ts";
import type { NumVec, ResolvedSolverOptions } from "../core/_validate.ts";
import { resolveSolverOptions } from "../core/_validate.ts";
import type { LossName } from "../core/loss.ts";
import type { SolverName } from "../core/solver_options.ts";
import { mappedEvaluator, type MappedPart } from "../core/_mapped_evaluator.ts";
import type { BatchSourceLike } from "../strategies/strategy.ts";
import type { BackendName } from "../strategies/backend_name.ts";
import type { FitOptions, ModelInput } from "./fit_options.ts";
import type { WorkflowInput } from "./presets.ts";
import type { OptimizationGoal } from "./goal.ts";
import { calculateAdaptiveTolerances } from "./tolerances.ts";
import {
  type ParamPlan,
  type ParamsInput,
  resolveParams,
} from "./fit/_params.ts";
import { resolveModel } from "./fit/_call.ts";
import type { XInput } from "./fit/_input.ts";
import { type OpenFit, openFit } from "./fit/_open.ts";

/**
 * One dataset of a global fit: a model and its data, as arrays (`x`, `y`,
 * `sigma`) or a data source (`source`, from `openSource`).
 *
 * @example
 * ```ts
 * import type { GlobalDataset } from "@nlsq/nlsq";
 * const d: GlobalDataset = { model: "a * exp(-k * x)", x: [0, 1, 2], y: [2, 1.2, 0.7] };
 * ```
 */
export interface GlobalDataset {
  /** The dataset's model (an expression, a compiled or built-in model). */
  readonly model: ModelInput;
  /** Independent variable(s), with `y`. */
  readonly x?: XInput;
  /** Observations, with `x`. */
  readonly y?: NumVec;
  /** Standard deviations of y (1-D), with `x` and `y`. */
  readonly sigma?: NumVec;
  /** A data source in place of `x`, `y` and `sigma`. */
  readonly source?: BatchSourceLike;
}

/**
 * Options of `fitGlobal`.
 *
 * @example
 * ```ts
 * import type { FitGlobalOptions } from "@nlsq/nlsq";
 * const o: FitGlobalOptions = { shared: ["k"], params: { a_0: 1, a_1: 1, k: 0.5 } };
 * ```
 */
export interface FitGlobalOptions {
  /** Parameters shared by every dataset whose model has them. */
  readonly shared?: readonly string[];
  /**
   * Global parameters by name (shared ones by their name, others as
   * `name_i` for dataset i): a start, or `{ value, min, max, vary, expr }`
   * as in `fit`; a tie may join datasets (`a_1: { expr: "a_0" }`).
   */
  readonly params?: ParamsInput;
  /** Starts by global name (alternative to `params`). */
  readonly p0?: Readonly<Record<string, number>>;
  /** "trf" (default) or "lm". */
  readonly method?: SolverName | "auto";
  /** Robust loss, on every dataset's residuals (default "linear"). */
  readonly loss?: LossName;
  /** Soft margin of the loss. */
  readonly fScale?: number;
  /** Tolerances (default: the workflow's, adaptive to all the points). */
  readonly ftol?: number;
  readonly xtol?: number;
  readonly gtol?: number;
  /** Most evaluations of the stacked problem. */
  readonly maxNfev?: number;
  /** Sigma in an absolute sense (pcov not scaled by the reduced chi-square). */
  readonly absoluteSigma?: boolean;
  /** Workflow (preset name or config) for every dataset. */
  readonly workflow?: string | WorkflowInput;
  /** Optimization goal. */
  readonly goal?: OptimizationGoal | string;
  /** Memory limit for each dataset's strategy choice. */
  readonly memoryLimitGb?: number;
  /** Backend of every dataset ("auto", "cpu", "webgpu"). */
  readonly backend?: BackendName;
  /** Worker threads per dataset. */
  readonly threads?: number | "auto";
  /** NaN/Inf in the data: "raise" (default) or "omit". */
  readonly nanPolicy?: "raise" | "omit";
  /** Stops the fit between iterations. */
  readonly signal?: AbortSignal;
}

const OPTION_KEYS: ReadonlySet<string> = new Set(
  [
    "shared",
    "params",
    "p0",
    "method",
    "loss",
    "fScale",
    "ftol",
    "xtol",
    "gtol",
    "maxNfev",
    "absoluteSigma",
    "workflow",
    "goal",
    "memoryLimitGb",
    "backend",
    "threads",
    "nanPolicy",
    "signal",
  ] satisfies (keyof FitGlobalOptions)[],
);

/** The stacked problem, open. */
export interface GlobalProblem {
  /** Global parameter names. */
  readonly names: readonly string[];
  /** The datasets' models as given (a built-in model with its hints). */
  readonly models: readonly Model[];
  /** Per dataset: the global index of each of its model's parameters. */
  readonly globalIndex: readonly (readonly number[])[];
  /** How the global free parameters give every global parameter. */
  readonly plan: ParamPlan;
  /** The datasets' fits, open. */
  readonly opens: readonly OpenFit[];
  /** The parts of the stacked evaluator (one per dataset). */
  readonly parts: readonly MappedPart[];
  /** The stacked problem over the global free parameters. */
  readonly evaluator: Evaluator;
  /** Solver options over the global free parameters. */
  readonly solver: ResolvedSolverOptions;
  /** The start (global free parameters, the caller's variables). */
  readonly start: Float64Array;
  /**
   * The stacked problem's residual scale C (the smallest of the datasets'
   * scales: 1 unless every dataset is of extreme magnitude): its costs are
   * C^2 times the caller's.
   */
  readonly residual: number;
  /** Caller's free global parameters to the solver's (`theta / S`). */
  toPhi(theta: Float64Array): Float64Array;
  /** Solver's free global parameters to the caller's. */
  toTheta(phi: Float64Array): Float64Array;
  /** Points of all datasets. */
  readonly nPoints: number;
  /** Rounding level of the stacked cost. */
  costFloor(): number;
  /** Remarks, per dataset. */
  readonly notes: readonly string[][];
  /** Releases every dataset's evaluator. */
  close(): Promise<void>;
}

/** Checks the call of `fitGlobal` before anything is opened. */
export function checkGlobalCall(
  datasets: unknown,
  options: unknown,
): void {
  if (!Array.isArray(datasets) || datasets.length === 0) {
    throw new TypeError(
      "fitGlobal: datasets must be a non-empty array of { model, x, y, sigma } or { model, source }",
    );
  }
  datasets.forEach((d, i) => {
    if (typeof d !== "object" || d === null || !("model" in d)) {
      throw new TypeError(`datasets[${i}] must be an object with a model`);
    }
    const hasArrays = "x" in d || "y" in d;
    if (hasArrays === ("source" in d && d.source !== undefined)) {
      throw new TypeError(
        `datasets[${i}] needs either x and y (arrays) or a source, not ${
          hasArrays ? "both" : "neither"
        }`,
      );
    }
  });
  if (typeof options !== "object" || options === null) {
    throw new TypeError("fitGlobal: options must be an object");
  }
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.has(key)) {
      throw new TypeError(
        `fitGlobal: unknown option "${key}" (options: ${
          [...OPTION_KEYS].join(", ")
        })`,
      );
    }
  }
  const shared = (options as FitGlobalOptions).shared;
  if (
    shared !== undefined &&
    (!Array.isArray(shared) || shared.some((s) => typeof s !== "string"))
  ) {
    throw new TypeError("shared must be an array of parameter names");
  }
}

/**
 * Opens every dataset and the stacked problem. `at` (every global
 * parameter) replaces the starts of the free ones (a refit at the fitted
 * values).
 */
export async function openGlobal(
  datasets: readonly GlobalDataset[],
  options: FitGlobalOptions,
  at?: Float64Array,
): Promise<GlobalProblem> {
  const originals = datasets.map((d, i) =>
    prefixed(i, () => resolveModel(d.model, d.source ?? null))
  );
  const models = originals.map((m, i) => prefixed(i, () => plainModel(m)));
  const { names, globalIndex } = globalNames(models, options.shared ?? []);
  const plan = resolveParams(sumOfParams(names), {
    ...(options.params ? { params: options.params } : {}),
    ...(options.p0 ? { p0: options.p0 } : {}),
  });
  if (!plan.p0) {
    throw new TypeError(
      `fitGlobal: no start: give params (or p0) by global name for ${
        names.join(", ")
      }`,
    );
  }
  const start = at ? Float64Array.from(plan.free, (k) => at[k]) : plan.p0;
  const full0 = plan.expand(start);
  const notes = datasets.map(() => [] as string[]);
  const opens: OpenFit[] = [];
  try {
    for (let i = 0; i < datasets.length; i++) {
      const p0 = globalIndex[i].map((g) => full0[g]);
      opens.push(
        await prefixed(
          i,
          () => openDataset(datasets[i], models[i], p0, options, notes[i]),
        ),
      );
    }
  } catch (e) {
    await Promise.all(opens.map((o) => o.evaluator.close()));
    throw e;
  }
  const C = Math.min(...opens.map((o) => o.plan.scale.residual));
  const S = globalScales(opens, globalIndex, plan, names.length);
  const toPhi = (t: Float64Array) => t.map((v, i) => v / S[i]);
  const toTheta = (u: Float64Array) => u.map((v, i) => v * S[i]);
  const parts = opens.map((o, i) =>
    datasetPart(o, globalIndex[i], plan, S, C / o.plan.scale.residual)
  );
  const nPoints = opens.reduce((s, o) => s + o.plan.data.nPoints, 0);
  const q = plan.free.length;
  const so = globalSolver(options, opens, plan, names, nPoints);
  return {
    names,
    models: originals,
    globalIndex,
    plan,
    opens,
    parts,
    evaluator: mappedEvaluator(parts, q, {
      // Distributed passes are collectives: the same order on every rank.
      sequential: opens.some((o) => o.plan.strategyName === "distributed"),
    }),
    solver: {
      ...so,
      lower: toPhi(so.lower),
      upper: toPhi(so.upper),
    },
    start,
    residual: C,
    toPhi,
    toTheta,
    nPoints,
    costFloor: () =>
      opens.reduce((s, o) => {
        const w = C / o.plan.scale.residual;
        return s + o.plan.scale.costFloor() * w * w;
      }, 0),
    notes,
    close: async () => {
      await Promise.all(opens.map((o) => o.evaluator.close()));
    },
  };
}

/** Errors of dataset i's name it. */
function prefixed<T>(i: number, f: () => T): T {
  const rename = (e: unknown) => {
    if (e instanceof TypeError || e instanceof RangeError) {
      e.message = `datasets[${i}]: ${e.message}`;
    }
    throw e;
  };
  try {
    const out = f();
    return out instanceof Promise ? out.catch(rename) as T : out;
  } catch (e) {
    return rename(e);
  }
}

/**
 * The expression alone: a built-in model's hints (bounds, ties) belong to
 * one dataset's fit; a global fit takes its parameters from `params`.
 */
function plainModel(m: Model): Model {
  if (!m.ast) {
    throw new TypeError(
      "fitGlobal needs expression models (a plain function has no derivatives to map)",
    );
  }
  return modelFromAst(m.ast, m.params, m.variables, m.expression ?? "");
}

/** Global names: shared ones as they are, the others `name_i`. */
function globalNames(
  models: readonly Model[],
  shared: readonly string[],
): { names: string[]; globalIndex: number[][] } {
  const sharedSet = new Set(shared);
  for (const name of shared) {
    if (!models.some((m) => m.params.includes(name))) {
      throw new RangeError(
        `shared: no dataset's model has a parameter "${name}"`,
      );
    }
  }
  const names: string[] = [];
  const index = new Map<string, number>();
  const globalIndex = models.map((m, i) =>
    m.params.map((name) => {
      const g = sharedSet.has(name) ? name : `${name}_${i}`;
      if (!index.has(g)) {
        index.set(g, names.length);
        names.push(g);
      }
      return index.get(g)!;
    })
  );
  return { names, globalIndex };
}

/**
 * A model over the global names (their sum): what fit's params machinery
 * reads names, ties and bounds against. Never evaluated on data.
 */
function sumOfParams(names: readonly string[]): Model {
  let ast: Node = { kind: "param", index: 0 };
  for (let k = 1; k < names.length; k++) {
    ast = {
      kind: "bin",
      op: "+",
      left: ast,
      right: { kind: "param", index: k },
    };
  }
  return modelFromAst(ast, names, [], names.join(" + "));
}

async function openDataset(
  d: GlobalDataset,
  m: Model,
  p0: number[],
  o: FitGlobalOptions,
  notes: string[],
): Promise<OpenFit> {
  const options: FitOptions = {
    p0,
    ...(d.sigma !== undefined ? { sigma: d.sigma } : {}),
    ...pick(o, [
      "loss",
      "fScale",
      "absoluteSigma",
      "workflow",
      "goal",
      "memoryLimitGb",
      "backend",
      "threads",
      "nanPolicy",
      "signal",
    ]),
  };
  const data = d.source ? { source: d.source } : { x: d.x!, y: d.y! };
  let open = await openFit(m, data, options, notes);
  if (open.evaluator.firstPhase || open.evaluator.polish) {
    // f32 or polished GPU evaluators are not accurate enough to end a fit
    // without their own polish: the stacked problem runs on the CPU.
    await open.evaluator.close();
    notes.push(
      `runs on the CPU: the ${open.evaluator.backend} evaluator needs a polish of its own`,
    );
    open = await openFit(m, data, { ...options, backend: "cpu" }, notes);
  }
  return open;
}

function pick<T extends object, K extends keyof T>(
  o: T,
  keys: readonly K[],
): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

/**
 * The scale of each global free parameter: that of the first dataset that
 * scales it (a parameter of extreme magnitude), else 1.
 */
function globalScales(
  opens: readonly OpenFit[],
  globalIndex: readonly (readonly number[])[],
  plan: ParamPlan,
  nGlobal: number,
): Float64Array {
  const all = new Float64Array(nGlobal);
  opens.forEach((o, i) => {
    const s = o.plan.scale.params;
    globalIndex[i].forEach((g, r) => {
      if (all[g] === 0 && s && s[r] !== 1) all[g] = s[r];
    });
  });
  return Float64Array.from(plan.free, (k) => all[k] || 1);
}

/**
 * Dataset i as a part of the stacked problem: its parameters (in its own
 * solver's variables, `phi = theta / s`) from the global free ones (the
 * global solver's, `u = theta / S`), and its residuals on the common scale
 * (`weight = C / c`).
 */
function datasetPart(
  open: OpenFit,
  gi: readonly number[],
  plan: ParamPlan,
  S: Float64Array,
  weight: number,
): MappedPart {
  const { scale } = open.plan;
  const p = gi.length, q = plan.free.length;
  const theta = (u: Float64Array) => u.map((v, b) => v * S[b]);
  return {
    evaluator: open.evaluator,
    at: (u) => {
      const full = plan.expand(theta(u));
      return scale.toPhi(Float64Array.from(gi, (g) => full[g]));
    },
    map: (u) => {
      const T = plan.jacobian(theta(u));
      const out = new Float64Array(p * q);
      for (let r = 0; r < p; r++) {
        const inv = scale.params ? 1 / scale.params[r] : 1;
        for (let b = 0; b < q; b++) {
          out[r * q + b] = inv * T[gi[r] * q + b] * S[b];
        }
      }
      return out;
    },
    weight,
  };
}

/** Solver options over the global free parameters. */
function globalSolver(
  o: FitGlobalOptions,
  opens: readonly OpenFit[],
  plan: ParamPlan,
  names: readonly string[],
  nPoints: number,
): ResolvedSolverOptions {
  const wf = opens[0].plan.workflow;
  const known = Number.isFinite(nPoints);
  const tol = wf.tolerance === "adaptive"
    ? calculateAdaptiveTolerances(known ? nPoints : 1e9, o.goal)
    : { ftol: wf.tolerance, xtol: wf.tolerance, gtol: wf.tolerance };
  return resolveSolverOptions(
    {
      method: o.method ?? "trf",
      ...(o.loss ? { loss: o.loss } : {}),
      ...(o.fScale !== undefined ? { fScale: o.fScale } : {}),
      ...(plan.bounds ? { bounds: plan.bounds } : {}),
      ftol: o.ftol ?? tol.ftol,
      xtol: o.xtol ?? tol.xtol,
      gtol: o.gtol ?? tol.gtol,
      ...(o.maxNfev !== undefined ? { maxNfev: o.maxNfev } : {}),
    },
    plan.free.length,
    known ? nPoints : Number.MAX_SAFE_INTEGER,
    plan.free.map((k) => names[k]),
  );
}
