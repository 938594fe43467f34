/**
 * `fit()`: the workflow orchestration. Resolves the model, the data, the
 * workflow preset and goal, lets the memory-budget selector pick a strategy
 * (or takes the one named), runs the solver (with multi-start where the
 * workflow asks for it), and builds the {@linkcode FitResult}.
 *
 * @module
 */

import { model as compileModel } from "../model/model.ts";
import type { Model } from "../model/types.ts";
import type { Evaluation, Evaluator } from "../core/linearization.ts";
import type { LossName } from "../core/loss.ts";
import { covarianceFromFactor } from "../core/covariance.ts";
import { solve } from "../core/solve.ts";
import type {
  IterationInfo,
  SolverResult,
  SolverState,
} from "../core/solver_types.ts";
import {
  type BoundsInput,
  checkFeasible,
  type NumVec,
  type ResolvedSolverOptions,
  resolveSolverOptions,
  toVector,
} from "../core/_validate.ts";
import { checkFitOptions } from "./_fit_options.ts";
import { ProgressReporter } from "./_progress.ts";
import { createDenseEvaluator } from "../core/dense_evaluator.ts";
import { solveLowerInPlace } from "../core/linalg.ts";
import {
  representableInF32,
  residualScale,
  scaleWeights,
} from "../core/_residual_scale.ts";
import { parameterScale, scaleModelParameters } from "./_problem_scale.ts";
import {
  type BatchSourceLike,
  getStrategy,
  type InMemoryData,
  type PassProgress,
  type StrategyContext,
  type StrategyData,
  type StrategyEvaluator,
} from "../strategies/strategy.ts";
import "../strategies/standard.ts";
import "../strategies/chunked.ts";
import "../strategies/streaming.ts";
import {
  arraysFingerprint,
  type CheckpointConfig,
  type CheckpointProgress,
  loadLatestCheckpoint,
  modelFingerprint,
} from "./checkpoint.ts";
import { CheckpointSession } from "./_checkpoint_session.ts";
import { createCheckpointDirectory } from "./checkpoint_directory.ts";
import { readBatches } from "../data/_batching.ts";
import { normalizeFitInput, type XInput } from "./_fit_input.ts";
import { FitResult, type StartOutcome } from "./fit_result.ts";
import { normalizeGoal, type OptimizationGoal } from "./goal.ts";
import { calculateAdaptiveTolerances } from "./tolerances.ts";
import {
  resolveWorkflow,
  type WorkflowConfig,
  type WorkflowInput,
} from "./presets.ts";
import { MemoryBudgetSelector } from "./selector.ts";
import { generateStarts } from "./generate_starts.ts";

/**
 * Progress reported to `onProgress`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { fit } from "@nlsq/nlsq";
 * import type { FitProgress } from "@nlsq/nlsq";
 * const seen: FitProgress[] = [];
 * await fit("a * x", [1, 2, 3], [2, 4, 6], { onProgress: (p) => { seen.push(p); } });
 * assert.ok(seen.length > 0 && seen[0].phase === "iteration");
 * ```
 */
export interface FitProgress {
  /** "iteration" after a solver iteration, "pass" during a pass over a source. */
  readonly phase: "iteration" | "pass";
  /** Start index (multi-start), 0-based. */
  readonly start: number;
  /** Solver iterations completed. */
  readonly nit: number;
  /** Function evaluations so far. */
  readonly nfev: number;
  /** Current robust cost. */
  readonly cost: number;
  /** Pass over the data and batch within it (streaming). */
  readonly pass?: number;
  /** Batch within the current pass (streaming). */
  readonly batch?: number;
  /** Points processed so far in the current pass (streaming). */
  readonly pointsProcessed?: number;
  /** Total points in the source, when known (streaming). */
  readonly totalPoints?: number;
  /** Estimated seconds left in the current pass (streaming). */
  readonly etaSeconds?: number;
  /** Milliseconds since the fit started. */
  readonly elapsedMs: number;
}

/**
 * Options of {@linkcode fit} (docs/architecture.md §3).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { fit } from "@nlsq/nlsq";
 * import type { FitOptions } from "@nlsq/nlsq";
 * const o: FitOptions = { p0: [1], bounds: [0, 10] };
 * const r = await fit("a * x", [1, 2, 3], [2, 4, 6], o);
 * assert.ok(Math.abs(r.params.a - 2) < 1e-6);
 * ```
 */
export interface FitOptions {
  /** Initial parameters (default: ones, moved inside finite bounds). */
  p0?: NumVec;
  /** 1-D standard deviations, or a 2-D covariance matrix of y. */
  sigma?: NumVec | readonly NumVec[];
  /** Use sigma in an absolute sense (pcov not scaled by reduced chi-square). */
  absoluteSigma?: boolean;
  /** `[lower, upper]` bounds (arrays or scalars). */
  bounds?: BoundsInput;
  /**
   * "trf" (default, like scipy's `least_squares` and NLSQ), "lm", or "auto"
   * (scipy's `curve_fit` rule: lm without bounds and robust loss, else trf).
   */
  method?: "trf" | "lm" | "auto";
  /** Robust loss. */
  loss?: LossName;
  /** Soft margin of the robust loss. */
  fScale?: number;
  /** Variable scale: array, scalar or "jac". */
  xScale?: NumVec | number | "jac";
  /** Relative cost tolerance (scipy's `ftol`). */
  ftol?: number;
  /** Relative step tolerance (scipy's `xtol`). */
  xtol?: number;
  /** Gradient tolerance (scipy's `gtol`). */
  gtol?: number;
  /** Maximum number of function evaluations. */
  maxNfev?: number;
  /** Preset name, registered strategy name, or a workflow config. */
  workflow?: string | WorkflowInput;
  /** Optimization goal (FAST, ROBUST, GLOBAL, MEMORY_EFFICIENT, QUALITY). */
  goal?: OptimizationGoal | string;
  /** Memory limit overriding detection, in GiB. */
  memoryLimitGb?: number;
  /** Arithmetic backend. */
  backend?: "auto" | "cpu" | "webgpu";
  /** CPU threads, an integer in [1, 256] ("auto": all cores for large problems). */
  threads?: number | "auto";
  /** Drop points with NaN/Inf ("omit") or throw ("raise", default). */
  nanPolicy?: "raise" | "omit";
  /** Seed of the multi-start sampler. */
  seed?: number;
  /** Directory for checkpoints. */
  checkpointDir?: string;
  /** Write a checkpoint every this many solver iterations (default 1). */
  checkpointEvery?: number;
  /** Checkpoint files of this fit to keep, newest first (default 3). */
  checkpointKeep?: number;
  /**
   * Resume from the newest valid checkpoint of this problem in
   * `checkpointDir` (true), or from a checkpoint file or directory (a path).
   * Damaged files and other problems' checkpoints (a shared directory) are
   * skipped; if all are of another model, data or configuration, throws
   * `CheckpointMismatchError`. New checkpoints are written only where
   * `checkpointDir` says.
   */
  resume?: boolean | string;
  /**
   * Progress callback (it may be async). A promise it returns is awaited
   * after an iteration (not during a pass over a source); a throw or a
   * rejection ends the fit with that error.
   */
  onProgress?: (p: FitProgress) => void;
  /** Stops the fit between iterations (or batches). */
  signal?: AbortSignal;
  /** 0 quiet, 1 start and end lines, 2 one line per iteration (stderr). */
  verbose?: 0 | 1 | 2;
}

const OPTION_KEYS = new Set([
  "p0",
  "sigma",
  "absoluteSigma",
  "bounds",
  "method",
  "loss",
  "fScale",
  "xScale",
  "ftol",
  "xtol",
  "gtol",
  "maxNfev",
  "workflow",
  "goal",
  "memoryLimitGb",
  "backend",
  "threads",
  "nanPolicy",
  "seed",
  "checkpointDir",
  "checkpointEvery",
  "checkpointKeep",
  "resume",
  "onProgress",
  "signal",
  "verbose",
]);

/**
 * A model argument: a compiled model, an expression, or a plain function.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { fit } from "@nlsq/nlsq";
 * import type { ModelInput } from "@nlsq/nlsq";
 * const m: ModelInput = (x: number, a: number) => a * x;
 * const r = await fit(m, [1, 2, 3], [2, 4, 6]);
 * assert.ok(Math.abs(r.params.a - 2) < 1e-6);
 * ```
 */
export type ModelInput =
  | Model
  | string
  // deno-lint-ignore no-explicit-any
  | ((x: any, ...p: number[]) => number);

function isSource(v: unknown): v is BatchSourceLike {
  return v !== null && typeof v === "object" &&
    typeof (v as BatchSourceLike).batches === "function" &&
    typeof (v as BatchSourceLike).fingerprint === "string";
}

/** Default p0 like scipy: ones, moved inside finite bounds. */
function defaultP0(lower: Float64Array, upper: Float64Array): Float64Array {
  return lower.map((lo, i) => {
    const hi = upper[i];
    if (Number.isFinite(lo) && Number.isFinite(hi)) return 0.5 * (lo + hi);
    if (Number.isFinite(lo)) return Math.max(1, lo + 1);
    if (Number.isFinite(hi)) return Math.min(1, hi - 1);
    return 1;
  });
}

/** Reads a whole source into memory (for in-memory strategies). */
async function loadSource(
  src: BatchSourceLike,
  signal?: AbortSignal,
): Promise<{ x: Float64Array[]; y: Float64Array; sigma: Float64Array | null }> {
  const b = await readBatches(src, 1 << 16, { signal });
  return { x: b.x, y: b.y, sigma: src.hasSigma ? b.sigma! : null };
}

/**
 * Collects the evaluate calls of concurrent solver runs (multi-start) into
 * shared passes over the data: a pass starts once every active run is
 * waiting, so one pass serves all starts without any timer.
 */
class BatchingEvaluator implements Evaluator {
  readonly nParams: number;
  readonly nResiduals: number;
  #inner: Evaluator;
  #active: number;
  #queue: {
    theta: Float64Array;
    withJac: boolean;
    resolve: (e: Evaluation) => void;
    reject: (e: unknown) => void;
  }[] = [];
  #waiting = 0;

  constructor(inner: Evaluator, active: number) {
    this.#inner = inner;
    this.#active = active;
    this.nParams = inner.nParams;
    this.nResiduals = inner.nResiduals;
  }

  /** A run finished: it will not ask again. */
  done(): void {
    this.#active--;
    this.#maybeFlush();
  }

  evaluate(
    thetas: readonly Float64Array[],
    withJacobian: readonly boolean[],
  ): Promise<Evaluation[]> {
    const all = Promise.all(
      thetas.map((theta, i) =>
        new Promise<Evaluation>((resolve, reject) => {
          this.#queue.push({
            theta,
            withJac: withJacobian[i],
            resolve,
            reject,
          });
        })
      ),
    );
    this.#waiting++;
    this.#maybeFlush();
    return all;
  }

  #maybeFlush() {
    if (this.#waiting === 0 || this.#waiting < this.#active) return;
    const q = this.#queue;
    this.#queue = [];
    this.#waiting = 0;
    this.#inner.evaluate(q.map((e) => e.theta), q.map((e) => e.withJac)).then(
      (out) => q.forEach((e, i) => e.resolve(out[i])),
      (err) => q.forEach((e) => e.reject(err)),
    );
  }
}

/** Residual function for a 2-D sigma: r = L^{-1} (f - y), J = L^{-1} J_f. */
function covarianceWeightedEvaluator(
  m: Model,
  x: Float64Array[],
  y: Float64Array,
  L: Float64Array,
  loss: LossName,
  fScale: number,
): Evaluator {
  const n = y.length, p = m.params.length;
  const B = new Float64Array(n * (p + 1));
  const run = (theta: Float64Array) => {
    m.kernel(x, y, null, theta, 0, n, B, n, true);
    const f = B.slice(p * n, (p + 1) * n);
    solveLowerInPlace(L, n, f);
    const J = B.slice(0, p * n); // column-major n x p
    solveLowerInPlace(L, n, J, p);
    return { f, J };
  };
  return createDenseEvaluator((t) => run(t).f, n, p, {
    jac: (t) => {
      const { J } = run(t);
      const out = new Float64Array(n * p);
      for (let i = 0; i < n; i++) {
        for (let k = 0; k < p; k++) out[i * p + k] = J[k * n + i];
      }
      return out;
    },
    loss,
    fScale,
  });
}

/**
 * Fits a model to data through the workflow system.
 *
 * @example Fit an exponential decay
 * ```ts
 * import assert from "node:assert";
 * import { fit, model } from "@nlsq/nlsq";
 * const x = Array.from({ length: 50 }, (_, i) => i / 10);
 * const y = x.map((t) => 3 * Math.exp(-1.5 * t) + 0.5);
 * const r = await fit(model("a * exp(-b * x) + c"), x, y, { p0: [1, 1, 0] });
 * assert.ok(r.success);
 * assert.ok(Math.abs(r.params.b - 1.5) < 1e-8);
 * assert.strictEqual(r.strategy, "standard");
 * ```
 */
export async function fit(
  modelIn: ModelInput,
  xOrSource: XInput | BatchSourceLike,
  yOrOptions?: NumVec | FitOptions,
  maybeOptions?: FitOptions,
): Promise<FitResult> {
  const t0 = performance.now();
  const m =
    typeof modelIn === "object" && modelIn !== null && "kernel" in modelIn
      ? modelIn
      : compileModel(modelIn as string);
  const p = m.params.length;
  const fromSource = isSource(xOrSource);
  const options: FitOptions =
    (fromSource ? yOrOptions as FitOptions : maybeOptions) ??
      {};
  if (typeof options !== "object" || options === null) {
    throw new TypeError("options must be an object");
  }
  if (fromSource && maybeOptions !== undefined) {
    throw new TypeError(
      "fit(model, source, options): with a data source, options are the third argument",
    );
  }
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.has(key)) {
      throw new TypeError(
        `fit: unknown option "${key}" (known: ${[...OPTION_KEYS].join(", ")})`,
      );
    }
  }
  // Every value is checked here, before any data is read.
  const { verbose, backend, nanPolicy } = checkFitOptions(options, p);
  const goal = options.goal === undefined
    ? undefined
    : normalizeGoal(options.goal);
  const notes: string[] = [];

  // Data.
  let data: StrategyData;
  let sigmaChol: Float64Array | null = null;
  let nPoints: number;
  let inMemory: {
    x: Float64Array[];
    y: Float64Array;
    sigma: Float64Array | null;
  } | null = null;
  if (fromSource) {
    const src = xOrSource as BatchSourceLike;
    if (src.nFeatures !== m.variables.length) {
      throw new RangeError(
        `the source has ${src.nFeatures} x column(s) but the model has ${m.variables.length} variable(s)`,
      );
    }
    if (options.sigma !== undefined) {
      throw new TypeError(
        "sigma: give sigma as a column of the source, not as an option",
      );
    }
    data = src;
    nPoints = src.length ?? NaN;
  } else {
    const inp = normalizeFitInput(
      xOrSource,
      yOrOptions,
      options.sigma,
      m.variables.length,
      nanPolicy,
    );
    if (inp.dropped > 0) {
      notes.push(`dropped ${inp.dropped} points with NaN/Inf`);
    }
    sigmaChol = inp.sigmaChol;
    inMemory = { x: inp.x, y: inp.y, sigma: inp.sigma };
    nPoints = inp.y.length;
    data = {
      kind: "memory",
      x: inp.x,
      y: inp.y,
      w: inp.sigma ? inp.sigma.map((s) => 1 / s) : null,
    } satisfies InMemoryData;
  }
  if (Number.isFinite(nPoints) && nPoints < p) {
    throw new RangeError(
      `the model has ${p} parameters but there are only ${nPoints} data points`,
    );
  }

  // Workflow, strategy and tolerances.
  const wf: WorkflowConfig = resolveWorkflow(options.workflow, {
    isStrategyName: (name) => getStrategy(name) !== undefined,
  });
  let strategyName = wf.strategy;
  let config: Record<string, unknown> | null =
    (wf as { config?: Record<string, unknown> })
      .config ?? null;
  if (strategyName === "auto") {
    if (!Number.isFinite(nPoints)) strategyName = "streaming";
    else {
      const sel = new MemoryBudgetSelector().select({
        nPoints,
        nParams: p,
        nFeatures: m.variables.length,
        memoryLimitGb: options.memoryLimitGb,
        goal,
        useGpu: backend === "webgpu",
        verbose: verbose > 0,
      });
      strategyName = sel.strategy;
      // The selector's configuration (chunk or batch size), with the
      // caller's own keys on top.
      const picked = sel.config as Record<string, unknown> | null;
      config = picked || config ? { ...picked, ...config } : null;
      notes.push(`selector: ${sel.reason}`);
    }
  } else if (
    (strategyName === "chunked" || strategyName === "streaming") &&
    config === null && Number.isFinite(nPoints)
  ) {
    const sel = new MemoryBudgetSelector().select({
      nPoints,
      nParams: p,
      nFeatures: m.variables.length,
      memoryLimitGb: options.memoryLimitGb,
    });
    config = sel.strategy === strategyName
      ? sel.config as unknown as Record<string, unknown>
      : null;
  }
  if (sigmaChol && strategyName !== "standard") {
    notes.push(
      `a 2-D sigma needs the dense standard path; "${strategyName}" not used`,
    );
    strategyName = "standard";
  }
  const strategy = getStrategy(strategyName);
  if (!strategy) {
    throw new TypeError(
      `workflow: strategy "${strategyName}" is not registered${
        strategyName === "streaming" || strategyName === "distributed"
          ? " (import its module first)"
          : ""
      }`,
    );
  }
  if (fromSource && !strategy.accepts.includes("source")) {
    // In-memory strategies read the whole source first.
    const loaded = await loadSource(data as BatchSourceLike, options.signal);
    inMemory = loaded;
    nPoints = loaded.y.length;
    data = {
      kind: "memory",
      x: loaded.x,
      y: loaded.y,
      w: loaded.sigma ? loaded.sigma.map((s) => 1 / s) : null,
    };
    notes.push(
      `read the source into memory for the "${strategyName}" strategy`,
    );
  }

  // Data of extreme magnitude are fitted with scaled residuals (a power of
  // two, 1 for ordinary data); costs are reported unscaled.
  let rscale = 1;
  if (data.kind === "memory") {
    rscale = residualScale(
      data.y,
      data.w ??
        (sigmaChol ? choleskyDiagonalWeights(sigmaChol, nPoints) : null),
    );
    if (rscale !== 1) {
      data = { ...data, w: scaleWeights(data.w, rscale, data.y.length) };
      if (sigmaChol) sigmaChol = sigmaChol.map((v) => v / rscale);
      notes.push(
        `residuals scaled by 2^${
          Math.log2(rscale)
        } (data of extreme magnitude)`,
      );
    }
  }
  const unscaleCost = (c: number) => c / rscale / rscale;
  const costFloor = lazyCostFloor(data, sigmaChol);

  const tol = wf.tolerance === "adaptive"
    ? calculateAdaptiveTolerances(
      Number.isFinite(nPoints) ? nPoints : 1e9,
      goal,
    )
    : { ftol: wf.tolerance, xtol: wf.tolerance, gtol: wf.tolerance };
  const so: ResolvedSolverOptions = resolveSolverOptions(
    {
      method: options.method ?? "trf",
      bounds: options.bounds,
      loss: options.loss,
      fScale: options.fScale,
      xScale: options.xScale,
      ftol: options.ftol ?? tol.ftol,
      xtol: options.xtol ?? tol.xtol,
      gtol: options.gtol ?? tol.gtol,
      maxNfev: options.maxNfev,
    },
    p,
    Number.isFinite(nPoints) ? nPoints : Number.MAX_SAFE_INTEGER,
    m.params,
  );
  const p0 = options.p0 === undefined
    ? defaultP0(so.lower, so.upper)
    : toVector(options.p0, "p0", p);
  checkFeasible(p0, so.lower, so.upper, "p0", m.params);

  // Multi-start: the workflow's, or implied by a ROBUST/QUALITY goal.
  let multi = wf.multiStart;
  if (!multi && (goal === "robust" || goal === "quality")) {
    multi = { nStarts: goal === "quality" ? 20 : 10, sampler: "lhs" };
  }
  const starts = multi && multi.nStarts > 1
    ? generateStarts({
      p0,
      lower: so.lower,
      upper: so.upper,
      nStarts: multi.nStarts,
      sampler: multi.sampler,
      seed: options.seed ?? 0,
    }).map((s) => Float64Array.from(s))
    : [p0];

  // Parameters of extreme magnitude are solved for in scaled variables
  // phi = theta / pscale (powers of two; null for ordinary problems).
  const pscale = data.kind === "memory" ? parameterScale(m, data, p0) : null;
  const mSolve = pscale ? scaleModelParameters(m, pscale) : m;
  const toPhi = (t: Float64Array) =>
    pscale ? t.map((v, i) => v / pscale[i]) : t;
  const toTheta = (t: Float64Array) =>
    pscale ? t.map((v, i) => v * pscale[i]) : t;
  const soPhi: ResolvedSolverOptions = pscale
    ? {
      ...so,
      lower: toPhi(so.lower),
      upper: toPhi(so.upper),
      // A given xScale is in the caller's variables; the default of ones
      // (no scaling) stays ones.
      xScale: so.xScale === "jac" || options.xScale === undefined
        ? so.xScale
        : toPhi(so.xScale),
    }
    : so;
  if (pscale) notes.push("parameters of extreme magnitude solved for scaled");

  // Checkpoints: identity of the problem, and the state to resume from.
  const wantCheckpoints = options.checkpointDir !== undefined ||
    wf.checkpoints;
  const resumeStates = new Map<number, SolverState>();
  let checkpointBase: {
    model: { fingerprint: string; description: string };
    data: { fingerprint: string; description: string; nPoints: number | null };
    config: CheckpointConfig;
  } | null = null;
  let resumedStarts: { start: number; state: SolverState }[] = [];
  if (wantCheckpoints || options.resume) {
    const src = fromSource ? xOrSource as BatchSourceLike : null;
    checkpointBase = {
      model: {
        fingerprint: await modelFingerprint(m),
        description: m.expression ?? `function of ${m.params.join(", ")}`,
      },
      data: {
        fingerprint: src?.fingerprint ?? await arraysFingerprint([
          ...inMemory!.x,
          inMemory!.y,
          inMemory!.sigma,
          sigmaChol,
        ]),
        description: src?.description ?? `arrays (${nPoints} points)`,
        nPoints: Number.isFinite(nPoints) ? nPoints : null,
      },
      config: {
        method: so.method,
        loss: so.loss,
        fScale: so.fScale,
        lower: Array.from(so.lower),
        upper: Array.from(so.upper),
        nStarts: starts.length,
        ftol: so.ftol,
        xtol: so.xtol,
        gtol: so.gtol,
        maxNfev: so.maxNfev,
        strategy: strategyName,
        strategyConfig: config,
      },
    };
  }
  if (options.resume) {
    const where = typeof options.resume === "string"
      ? options.resume
      : options.checkpointDir!;
    const loaded = await loadLatestCheckpoint(where, {
      match: {
        modelFingerprint: checkpointBase!.model.fingerprint,
        dataFingerprint: checkpointBase!.data.fingerprint,
        config: checkpointBase!.config,
      },
    });
    resumedStarts = loaded.checkpoint.starts.map((s) => ({ ...s }));
    for (const s of resumedStarts) resumeStates.set(s.start, s.state);
    for (const sk of loaded.skipped) {
      notes.push(`skipped damaged checkpoint ${sk.path}: ${sk.reason}`);
    }
    notes.push(
      `resumed from ${loaded.path} (iteration ${
        Math.max(...resumedStarts.map((s) => s.state.nit))
      })`,
    );
  }

  // Pass progress (streaming): forwarded to onProgress with an estimate of
  // the time left in the pass, and remembered for checkpoints.
  let lastCost = NaN;
  let lastPass: CheckpointProgress | null = null;
  let passNo = 0, passT0 = performance.now(), lastBatchAt = passT0;
  let prevPassMs: number | undefined;
  const progress = new ProgressReporter(options.onProgress);
  const onPass = (pp: PassProgress) => {
    const now = performance.now();
    if (pp.pass !== passNo) {
      if (passNo > 0) prevPassMs = lastBatchAt - passT0;
      passNo = pp.pass;
      passT0 = lastBatchAt;
    }
    lastBatchAt = now;
    lastPass = {
      pass: pp.pass,
      batch: pp.batch,
      pointsProcessed: pp.pointsProcessed,
    };
    if (!options.onProgress) return;
    const elapsed = (now - passT0) / 1000;
    const etaSeconds = pp.totalPoints !== undefined && pp.pointsProcessed > 0
      ? Math.max(0, pp.totalPoints - pp.pointsProcessed) * elapsed /
        pp.pointsProcessed
      : prevPassMs !== undefined
      ? Math.max(0, prevPassMs / 1000 - elapsed)
      : undefined;
    progress.reportNow({
      phase: "pass",
      start: 0,
      nit: 0,
      nfev: 0,
      cost: lastCost,
      pass: pp.pass,
      batch: pp.batch,
      pointsProcessed: pp.pointsProcessed,
      totalPoints: pp.totalPoints,
      etaSeconds,
      elapsedMs: now - t0,
    });
  };

  const ctx: StrategyContext = {
    model: mSolve,
    data,
    loss: so.loss,
    fScale: so.fScale * rscale,
    backend,
    config,
    nPoints,
    threads: options.threads,
    signal: options.signal,
    verbose,
    onPass,
    needsF64: pscale !== null ||
      (rscale !== 1 && data.kind === "memory" &&
        !representableInF32([...data.x, data.y, data.w])),
  };
  if (verbose > 0) {
    console.error(
      `nlsq: fitting ${p} parameters to ${nPoints} points; workflow ${wf.name}, strategy ${strategyName}, method ${so.method}, tol ${so.ftol}, ${starts.length} start(s)`,
    );
  }
  const sev: StrategyEvaluator = sigmaChol
    ? {
      ...covarianceWeightedEvaluator(
        mSolve,
        inMemory!.x,
        inMemory!.y,
        sigmaChol,
        so.loss,
        so.fScale * rscale,
      ),
      backend: "cpu (dense, 2-D sigma, f64)",
      close() {},
    }
    : await strategy.createEvaluator(ctx);
  // Under MPI only the writing rank makes the (default) directory.
  const session = wantCheckpoints && sev.isCheckpointWriter !== false
    ? new CheckpointSession({
      dir: options.checkpointDir ?? await createCheckpointDirectory(),
      every: options.checkpointEvery ?? sev.checkpointEvery ?? 1,
      keep: options.checkpointKeep ?? 3,
      base: checkpointBase!,
      progress: () => lastPass,
    })
    : null;
  session?.seed(resumedStarts);
  // Before a CPU polish, the (inexact) first phase stops at its own limits.
  const fp = sev.firstPhase;
  const so1: ResolvedSolverOptions = fp
    ? {
      ...soPhi,
      ftol: Math.max(so.ftol, fp.tol),
      xtol: Math.max(so.xtol, fp.tol),
      gtol: Math.max(so.gtol, fp.tol),
      maxNfev: Math.min(so.maxNfev, fp.maxNfev),
    }
    : soPhi;
  let best: SolverResult;
  let polishNfev: number | null = null;
  const outcomes: StartOutcome[] = [];
  try {
    const batcher = starts.length > 1
      ? new BatchingEvaluator(sev, starts.length)
      : null;
    const ev: Evaluator = batcher ?? sev;
    const runOne = async (
      x0: Float64Array,
      k: number,
      resume?: SolverState,
    ) => {
      let start = x0;
      if (strategy.warmStart && !resume) {
        start = await strategy.warmStart(
          ctx,
          x0,
          async (wev, wx0) =>
            (await solve(wev, wx0, soPhi, {
              signal: options.signal,
              costFloor,
            }))
              .x,
        );
      }
      return solve(ev, start, so1, {
        signal: options.signal,
        costFloor,
        resume,
        onIteration: async (info: IterationInfo) => {
          lastCost = unscaleCost(info.cost);
          if (verbose >= 2) {
            console.error(
              `nlsq: start ${k} iter ${info.nit} nfev ${info.nfev} cost ${
                unscaleCost(info.cost).toExponential(6)
              } optimality ${info.optimality.toExponential(3)} step ${
                info.stepNorm.toExponential(3)
              }`,
            );
          }
          await progress.report({
            phase: "iteration",
            start: k,
            nit: info.nit,
            nfev: info.nfev,
            cost: unscaleCost(info.cost),
            elapsedMs: performance.now() - t0,
          });
          await session?.record(k, info.state);
        },
      });
    };
    const results = await Promise.all(starts.map(async (s, k) => {
      try {
        return await runOne(toPhi(s), k, resumeStates.get(k));
      } catch (e) {
        // A failing onProgress ends the fit, not just this start.
        if (starts.length === 1 || options.signal?.aborted) throw e;
        if (progress.failure) throw progress.failure.error;
        return e as Error;
      } finally {
        batcher?.done();
      }
    }));
    let bestK = -1;
    results.forEach((r, k) => {
      if (r instanceof Error) {
        outcomes.push({
          p0: Array.from(starts[k]),
          popt: [],
          cost: NaN,
          status: -1,
          nfev: 0,
          success: false,
        });
        return;
      }
      outcomes.push({
        p0: Array.from(starts[k]),
        popt: Array.from(toTheta(r.x)),
        cost: unscaleCost(r.cost),
        status: r.status,
        nfev: r.nfev,
        success: r.status > 0,
      });
      // Lowest cost wins; a later start must beat the incumbent by more than
      // rounding (1e-9 relative, or eps * sum(y^2) absolute), so ties and
      // equivalent minima (swapped peaks, noise-level costs) keep p0's.
      const cur = bestK >= 0 ? results[bestK] as SolverResult : null;
      if (
        !cur || r.cost < cur.cost - Math.max(1e-9 * cur.cost, costFloor())
      ) {
        bestK = k;
      }
    });
    if (bestK < 0) throw results[0] as Error;
    best = results[bestK] as SolverResult;
    if (wf.validate) {
      // Validation pass: restart from the best point with the same settings;
      // a true minimum stays put.
      const v = await solve(sev, best.x, soPhi, {
        signal: options.signal,
        costFloor,
      });
      let maxRel = 0;
      for (let i = 0; i < p; i++) {
        maxRel = Math.max(
          maxRel,
          Math.abs(v.x[i] - best.x[i]) / Math.max(Math.abs(best.x[i]), 1e-300),
        );
      }
      notes.push(
        `validation pass: max relative parameter change ${
          maxRel.toExponential(2)
        }`,
      );
      if (v.cost <= best.cost) {
        best = {
          ...v,
          nfev: best.nfev + v.nfev,
          njev: best.njev + v.njev,
          nit: best.nit + v.nit,
        };
      }
    }
    const plan = sev.polish
      ? await sev.polish({ ...best, start: toPhi(starts[bestK]) })
      : null;
    if (plan) {
      // Inexact arithmetic (WebGPU f32, or normal-form sums of a nearly
      // singular J): finish in double precision on the CPU.
      try {
        const q = await solve(plan.evaluator, plan.x0, soPhi, {
          signal: options.signal,
          costFloor,
        });
        polishNfev = q.nfev;
        notes.push(
          `CPU polish on ${plan.evaluator.backend} (${plan.reason}): ${q.nfev} evaluations`,
        );
        best = {
          ...q,
          nfev: best.nfev + q.nfev,
          njev: best.njev + q.njev,
          nit: best.nit + q.nit,
        };
      } finally {
        await plan.evaluator.close();
      }
    }
    // A progress report still running may yet fail the fit.
    await progress.settle();
  } catch (e) {
    // Aborted or failed: the last completed iteration goes to disk (a write
    // error must not hide the original one).
    await session?.flush().catch(() => {});
    throw e;
  } finally {
    await sev.close();
  }
  // The final state goes to disk too, whatever the checkpoint interval.
  await session?.flush();
  if (session?.lastPath) notes.push(`last checkpoint: ${session.lastPath}`);
  if (sev.notes) notes.push(...sev.notes);

  const popt = toTheta(best.x);
  // Statistics from a final pass at popt.
  const fin = await finalPass(
    m,
    popt,
    inMemory,
    data,
    so.loss === "linear" && !sigmaChol ? unscaleCost(best.cost) : null,
  );
  const absoluteSigma = options.absoluteSigma ?? false;
  const { pcov, rank } = covarianceFromFactor(best.factor, {
    nResiduals: fin.n,
    cost: best.cost,
    absoluteSigma,
    method: so.method,
  });
  // (c J S)^T (c J S) = c^2 S J^T J S: undo both scales of the inverse.
  const c2 = absoluteSigma ? rscale * rscale : 1;
  if (c2 !== 1 || pscale) {
    pcov.forEach((row, i) =>
      row.forEach((v, j) => {
        row[j] = v * c2 * (pscale ? pscale[i] * pscale[j] : 1);
      })
    );
  }
  if (pcov.some((row) => row.some((v) => !Number.isFinite(v)))) {
    notes.push(
      `covariance of the parameters could not be estimated (${
        rank < p
          ? `the Jacobian has rank ${rank} of ${p} at the solution`
          : `${fin.n} points leave no degrees of freedom for ${p} parameters`
      })`,
    );
  }
  const elapsedMs = performance.now() - t0;
  const result = new FitResult({
    popt,
    paramNames: m.params,
    pcov,
    cost: unscaleCost(best.cost),
    residuals: fin.residuals,
    nPoints: fin.n,
    ssRes: fin.ssRes,
    ssTot: fin.ssTot,
    chiSquare: sigmaChol ? 2 * unscaleCost(best.cost) : fin.chiSquare,
    nfev: (outcomes.reduce((s, o) => s + o.nfev, 0) || best.nfev) +
      (polishNfev ?? 0),
    njev: best.njev,
    nit: best.nit,
    status: best.status,
    message: best.message,
    method: so.method,
    strategy: strategyName,
    backend: polishNfev === null ? sev.backend : `${sev.backend} + CPU polish`,
    preset: wf.name,
    tolerances: { ftol: so.ftol, xtol: so.xtol, gtol: so.gtol },
    starts: outcomes,
    optimality: best.optimality,
    activeMask: best.activeMask,
    elapsedMs,
    notes,
  });
  if (verbose > 0) {
    console.error(
      `nlsq: ${
        result.success ? "converged" : "did not converge"
      } (${result.message}) cost ${
        result.cost.toExponential(6)
      }, nfev ${result.nfev}, ${
        elapsedMs.toFixed(1)
      } ms, backend ${result.backend}`,
    );
  }
  return result;
}

/**
 * The rounding level of the (weighted, possibly scaled) cost,
 * `eps * 0.5 * sum((w y)^2)`: cost differences below it are noise. Computed
 * on first use (a pass over y); 0 for data not in memory.
 */
function lazyCostFloor(
  data: StrategyData,
  sigmaChol: Float64Array | null,
): () => number {
  let floor: number | null = null;
  return () => {
    if (floor !== null) return floor;
    if (data.kind !== "memory") return floor = 0;
    const { y } = data;
    const w = data.w ??
      (sigmaChol ? choleskyDiagonalWeights(sigmaChol, y.length) : null);
    let s = 0;
    for (let i = 0; i < y.length; i++) {
      const v = w ? w[i] * y[i] : y[i];
      s += v * v;
    }
    return floor = 2.220446049250313e-16 * 0.5 * s;
  };
}

/** 1 / diag(L) of the Cholesky factor of a 2-D sigma (n x n, row-major). */
function choleskyDiagonalWeights(L: Float64Array, n: number): Float64Array {
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = 1 / L[i * n + i];
  return w;
}

/** Residuals and sums of squares at popt, in memory or batch by batch. */
async function finalPass(
  m: Model,
  popt: Float64Array,
  inMemory:
    | { x: Float64Array[]; y: Float64Array; sigma: Float64Array | null }
    | null,
  data: StrategyData,
  linearCost: number | null,
): Promise<
  {
    residuals: Float64Array | null | (() => Float64Array);
    n: number;
    ssRes: number;
    ssTot: number;
    chiSquare: number;
  }
> {
  const acc = { n: 0, mean: 0, m2: 0, ssRes: 0, chi: 0 };
  // Total sum of squares: a two-pass mean and sum per block of 4096 values
  // (two passes over cached values, one over memory), merged across blocks
  // with Chan's formula (stable, and no division per point).
  const addY = (y: Float64Array) => {
    for (let s0 = 0; s0 < y.length; s0 += 4096) {
      const e = Math.min(y.length, s0 + 4096);
      const nb = e - s0;
      // four partial sums: a single one waits on each add's latency
      let s1 = 0, s2 = 0, s3 = 0, s4 = 0, i = s0;
      for (; i + 3 < e; i += 4) {
        s1 += y[i];
        s2 += y[i + 1];
        s3 += y[i + 2];
        s4 += y[i + 3];
      }
      for (; i < e; i++) s1 += y[i];
      const mb = (s1 + s2 + s3 + s4) / nb;
      let q1 = 0, q2 = 0, q3 = 0, q4 = 0;
      for (i = s0; i + 3 < e; i += 4) {
        const d1 = y[i] - mb, d2 = y[i + 1] - mb;
        const d3 = y[i + 2] - mb, d4 = y[i + 3] - mb;
        q1 += d1 * d1;
        q2 += d2 * d2;
        q3 += d3 * d3;
        q4 += d4 * d4;
      }
      for (; i < e; i++) q1 += (y[i] - mb) * (y[i] - mb);
      const m2 = q1 + q2 + q3 + q4;
      const n = acc.n + nb;
      const d = mb - acc.mean;
      acc.m2 += m2 + d * d * acc.n * nb / n;
      acc.mean += d * nb / n;
      acc.n = n;
    }
  };
  if (inMemory && !inMemory.sigma && linearCost !== null) {
    // Unweighted, linear loss: the solver's cost is already 0.5 * RSS, so
    // the residual vector is only computed if the caller asks for it.
    addY(inMemory.y);
    const { x, y } = inMemory;
    return {
      residuals: () => {
        const r = m.evaluate(x, popt);
        for (let i = 0; i < y.length; i++) r[i] = y[i] - r[i];
        return r;
      },
      n: acc.n,
      ssRes: 2 * linearCost,
      ssTot: acc.m2,
      chiSquare: 2 * linearCost,
    };
  }
  const add = (
    x: Float64Array[],
    y: Float64Array,
    sigma: Float64Array | null,
    keep: boolean,
  ) => {
    // The model values are turned into residuals in place.
    const res = m.evaluate(x, popt);
    for (let i = 0; i < y.length; i++) {
      const r = y[i] - res[i];
      res[i] = r;
      acc.ssRes += r * r;
      const wr = sigma ? r / sigma[i] : r;
      acc.chi += wr * wr;
    }
    addY(y);
    return keep ? res : null;
  };
  let residuals: Float64Array | null = null;
  if (inMemory) residuals = add(inMemory.x, inMemory.y, inMemory.sigma, true);
  else {
    for await (const b of (data as BatchSourceLike).batches(1 << 16)) {
      add(b.x, b.y, b.sigma ?? null, false);
    }
  }
  return {
    residuals,
    n: acc.n,
    ssRes: acc.ssRes,
    ssTot: acc.m2,
    chiSquare: acc.chi,
  };
}
