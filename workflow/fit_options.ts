/**
 * The public types of {@linkcode fit}'s arguments: its options, the
 * progress it reports, and the model it accepts.
 *
 * @module
 */

import type { Model } from "../model/types.ts";
import type { NumVec } from "../core/_validate.ts";
import {
  SOLVER_OPTION_KEYS,
  type SolverOptions,
} from "../core/solver_options.ts";
import type { OptimizationGoal } from "./goal.ts";
import type { WorkflowInput } from "./presets.ts";
import type { ParamsInput } from "./fit/_params.ts";
import type { BackendName } from "../strategies/backend_name.ts";

/**
 * Progress reported to `onProgress`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { fit } from "@nlsq/nlsq";
 * import type { FitProgress } from "@nlsq/nlsq";
 * const seen: FitProgress[] = [];
 * await fit("a * x", [1, 2, 3], [2, 4, 6], { p0: [1], onProgress: (p) => { seen.push(p); } });
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
 * Options of {@linkcode fit} (docs/architecture.md §3): the solver's
 * (`SolverOptions`: bounds, method, loss, fScale, xScale, tolerances,
 * maxNfev, signal) and those below.
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
export interface FitOptions extends SolverOptions {
  /**
   * Initial parameters, in model order or by name (default: ones, moved
   * inside finite bounds).
   */
  p0?: NumVec | Readonly<Record<string, number>>;
  /**
   * Parameters by name (lmfit's `Parameters`): a start, or
   * `{ value, min, max, vary, expr }`; `vary: false` holds a parameter at
   * `value`, `expr` ties it to others (e.g. `{ expr: "s1" }`). Fixed and tied
   * parameters are substituted into the model before differentiation.
   */
  params?: ParamsInput;
  /** 1-D standard deviations, or a 2-D covariance matrix of y. */
  sigma?: NumVec | readonly NumVec[];
  /** Use sigma in an absolute sense (pcov not scaled by reduced chi-square). */
  absoluteSigma?: boolean;
  /** Preset name, registered strategy name, or a workflow config. */
  workflow?: string | WorkflowInput;
  /** Optimization goal (FAST, ROBUST, GLOBAL, MEMORY_EFFICIENT, QUALITY). */
  goal?: OptimizationGoal | string;
  /** Memory limit overriding detection, in GiB. */
  memoryLimitGb?: number;
  /** Arithmetic backend. */
  backend?: BackendName;
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
  /** 0 quiet, 1 start and end lines, 2 one line per iteration (stderr). */
  verbose?: 0 | 1 | 2;
  /**
   * "lse" (least squares, default) or "poisson": Poisson maximum likelihood
   * for counts (photons, events; zeros allowed), minimizing the deviance
   * `2 sum(f - y + y log(y / f))` with the covariance the inverse Fisher
   * information `(J^T diag(1/f) J)^-1` (not scaled). It runs on the batch
   * engine (`fitBatch` with one fit): an expression model, data in memory
   * (a source is read whole), no sigma, no robust loss, and no workflow,
   * multi-start or checkpoint options.
   */
  estimator?: "lse" | "poisson";
}

const KEYS = [
  "p0",
  "params",
  "sigma",
  "absoluteSigma",
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
  "verbose",
  "estimator",
] as const satisfies readonly (keyof FitOptions)[];
// A compile error here names an option missing from KEYS (the solver's own
// are listed in core/solver_options.ts).
const _everyOptionListed: Exclude<
  keyof FitOptions,
  keyof SolverOptions | typeof KEYS[number]
> extends never ? true
  : Exclude<keyof FitOptions, keyof SolverOptions | typeof KEYS[number]> = true;

/**
 * Every option name of {@linkcode FitOptions} (an unknown name is an error).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { FIT_OPTION_KEYS } from "./fit_options.ts";
 * assert.ok(FIT_OPTION_KEYS.has("p0") && !FIT_OPTION_KEYS.has("x0"));
 * ```
 */
export const FIT_OPTION_KEYS: ReadonlySet<string> = new Set([
  ...KEYS,
  ...SOLVER_OPTION_KEYS,
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
 * const r = await fit(m, [1, 2, 3], [2, 4, 6], { p0: [1] });
 * assert.ok(Math.abs(r.params.a - 2) < 1e-6);
 * ```
 */
export type ModelInput =
  | Model
  | string
  // deno-lint-ignore no-explicit-any
  | ((x: any, ...p: number[]) => number);
