/**
 * The Strategy plug-in interface and its registry.
 *
 * A strategy decides where the data lives and where the arithmetic runs, and
 * turns the data into an {@linkcode Evaluator} (the p-sized linearization the
 * solver works on). Strategies are registered by name; `fit(..., { workflow:
 * name })` selects one, and the memory-budget selector picks among
 * "standard", "chunked" and "streaming".
 *
 * @module
 */

import type { BackendDescription } from "./backend_description.ts";
import type { WeightedData } from "../core/weights.ts";
import type { Model } from "../model/types.ts";
import type { Evaluator } from "../core/linearization.ts";
import type { LossName } from "../core/loss.ts";
import type { BackendName } from "./backend_name.ts";
import type { RowReader } from "../data/source.ts";
import type { MomentsSummary } from "../core/_moments.ts";

/**
 * In-memory data as the strategies receive it (already validated).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { InMemoryData } from "@nlsq/nlsq/strategies";
 * const d: InMemoryData = {
 *   kind: "memory", x: [new Float64Array([0, 1])], y: new Float64Array([1, 2]), w: null,
 * };
 * assert.strictEqual(d.x[0].length, d.y.length);
 * ```
 */
export interface InMemoryData extends WeightedData {
  /** Discriminant: data held in memory. */
  readonly kind: "memory";
}

/**
 * A data source read batch by batch (see `data/`). Kept structural here so
 * strategies do not depend on the file readers.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { arraySource } from "@nlsq/nlsq";
 * import type { BatchSourceLike } from "@nlsq/nlsq/strategies";
 * const src: BatchSourceLike = arraySource([1, 2, 3], [2, 4, 6]);
 * assert.strictEqual(src.kind, undefined);
 * assert.strictEqual(src.length, 3);
 * ```
 */
export interface BatchSourceLike {
  /** Absent: distinguishes a source from in-memory data. */
  readonly kind?: undefined;
  /** Number of points, or `undefined` when unknown. */
  readonly length: number | undefined;
  /** Number of x columns. */
  readonly nFeatures: number;
  /** Whether the batches carry sigma. */
  readonly hasSigma: boolean;
  /** Human-readable description of the source. */
  readonly description: string;
  /**
   * Names of the x columns where the file gives them (a CSV header): an
   * expression model that uses them takes them as its variables.
   */
  readonly xNames?: readonly string[];
  /** Identifies the source's content (for checkpoints). */
  readonly fingerprint: string;
  /** Yields batches of up to `batchSize` points, optionally from `start` to `end`. */
  batches(
    batchSize: number,
    options?: { start?: number; end?: number; signal?: AbortSignal },
  ): AsyncIterable<
    { x: Float64Array[]; y: Float64Array; sigma?: Float64Array; start: number }
  >;
  /**
   * Random access into buffers the caller reuses (see
   * `DataSource.openReader`); the streaming strategy reads ahead with it.
   */
  openReader?(): Promise<RowReader>;
  /** Releases the source's resources. */
  close(): Promise<void> | void;
}

/**
 * Data handed to a strategy.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { arraySource } from "@nlsq/nlsq";
 * import type { StrategyData } from "@nlsq/nlsq/strategies";
 * const data: StrategyData[] = [
 *   { kind: "memory", x: [new Float64Array([0])], y: new Float64Array([1]), w: null },
 *   arraySource([0], [1]),
 * ];
 * assert.deepStrictEqual(data.map((d) => d.kind), ["memory", undefined]);
 * ```
 */
export type StrategyData = InMemoryData | BatchSourceLike;

/**
 * Progress of a pass over the data (streaming strategies report it).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { PassProgress } from "@nlsq/nlsq/strategies";
 * const p: PassProgress = { pass: 1, batch: 3, pointsProcessed: 3000, totalPoints: 10000 };
 * assert.ok(p.pointsProcessed <= p.totalPoints!);
 * ```
 */
export interface PassProgress {
  /** Pass number. */
  readonly pass: number;
  /** Batch within the pass. */
  readonly batch: number;
  /** Points processed so far in this pass. */
  readonly pointsProcessed: number;
  /** Total points, when known. */
  readonly totalPoints: number | undefined;
}

/**
 * Everything a strategy needs to build its evaluator.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { StrategyContext } from "@nlsq/nlsq/strategies";
 * const ctx: Pick<StrategyContext, "loss" | "fScale" | "backend"> = {
 *   loss: "huber", fScale: 1, backend: "cpu",
 * };
 * assert.strictEqual(ctx.backend, "cpu");
 * ```
 */
export interface StrategyContext {
  /** The model to fit. */
  readonly model: Model;
  /** The data to fit. */
  readonly data: StrategyData;
  /** Robust loss. */
  readonly loss: LossName;
  /** Soft margin of the robust loss. */
  readonly fScale: number;
  /** Requested backend. */
  readonly backend: BackendName;
  /** Strategy configuration from the selector or the user (chunk size...). */
  readonly config: Readonly<Record<string, unknown>> | null;
  /** Number of data points (after validation). */
  readonly nPoints: number;
  /** Worker threads for CPU arithmetic ("auto" = all cores). */
  readonly threads?: number | "auto";
  /** Cancels the work when aborted. */
  readonly signal?: AbortSignal;
  /** 0 quiet, 1 summary, 2 per iteration (stderr). */
  readonly verbose: number;
  /** Called during passes over the data, when the strategy makes passes. */
  readonly onPass?: (p: PassProgress) => void;
  /**
   * True when the problem needs double precision: `fit()` rescaled
   * residuals or parameters of extreme magnitude (see
   * `core/_residual_scale.ts`) and the data or the model's scale literals
   * lie outside the range of f32, so f32 kernels must not run the fit.
   */
  readonly needsF64?: boolean;
}

/**
 * An evaluator bound to resources (threads, GPU buffers, files).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { StrategyEvaluator } from "@nlsq/nlsq/strategies";
 * const ev: Pick<StrategyEvaluator, "backend" | "nParams" | "nResiduals"> = {
 *   backend: "cpu (2 threads)", nParams: 2, nResiduals: 100,
 * };
 * assert.match(ev.backend, /cpu/);
 * ```
 */
export interface StrategyEvaluator extends Evaluator {
  /** What runs the arithmetic, e.g. "cpu (2 threads)" or "webgpu f64 (llvmpipe)". */
  readonly backend: string;
  /** The same as a structure (the label is derived from it). */
  readonly backendInfo?: BackendDescription;
  /**
   * Whether this process writes the fit's checkpoints (default true). Under
   * MPI every rank runs the same solver; only one of them (rank 0) should
   * write, so the others set this to false.
   */
  readonly isCheckpointWriter?: boolean;
  /**
   * Remarks for the fit result's `notes` (why this backend was chosen, GPU
   * readbacks); `fit()` reads them after `close()`.
   */
  readonly notes?: readonly string[];
  /**
   * Checkpoint interval (iterations) this strategy suggests, e.g. from the
   * cluster's distributed configuration; `fit`'s `checkpointEvery` wins.
   */
  readonly checkpointEvery?: number;
  /**
   * Present when this evaluator's arithmetic may not be accurate enough to
   * end a fit (WebGPU: f32 kernels always, f64 normal-form sums when J is
   * nearly singular). `fit()` calls it with the solver's result; a plan it
   * returns is finished with the same solver options on the plan's
   * double-precision evaluator (which `fit()` closes), and the result's
   * backend then ends in "+ CPU polish".
   */
  readonly polish?: (result: PolishInput) => Promise<PolishPlan | null>;
  /**
   * Limits of the solve before a polish (f32 kernels): tolerances no tighter
   * than `tol` and at most `maxNfev` evaluations; the polish then applies
   * the requested ones.
   */
  readonly firstPhase?: { readonly tol: number; readonly maxNfev: number };
  /**
   * Optional warm start: a better starting point than `p0` (e.g. a cheap
   * fit on a subsample, checked on all the data) before the full passes;
   * `solveOn` runs the fit's solver on another evaluator.
   */
  warmStart?: (
    p0: Float64Array,
    solveOn: (ev: Evaluator, x0: Float64Array) => Promise<Float64Array>,
  ) => Promise<Float64Array>;
  /**
   * Count, mean and sum of squared deviations of y over all rows, where a
   * full pass gathered them (streaming): `fit()` then needs no statistics
   * pass over a source for an unweighted linear fit.
   */
  readonly ySummary?: MomentsSummary | null;
  /** Releases threads, GPU buffers and files. */
  close(): void | Promise<void>;
}

/**
 * What {@linkcode StrategyEvaluator.polish} is told about the solve.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { PolishInput } from "@nlsq/nlsq/strategies";
 * const input: Pick<PolishInput, "x" | "status" | "start"> = {
 *   x: new Float64Array([1]), status: 1, start: new Float64Array([0]),
 * };
 * assert.strictEqual(input.status, 1);
 * ```
 */
export interface PolishInput {
  /** The solution. */
  readonly x: Float64Array;
  /** The solver's status (0: evaluation budget exhausted). */
  readonly status: number;
  /** The point that solve started from. */
  readonly start: Float64Array;
  /** The final linearization in factor form (F^T F = J^T J). */
  readonly factor: {
    readonly f: Float64Array;
    readonly colNorms: Float64Array;
  };
}

/**
 * How to finish a fit in double precision.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { createDenseEvaluator } from "../core/dense_evaluator.ts";
 * import type { StrategyEvaluator } from "@nlsq/nlsq/strategies";
 * import type { PolishPlan } from "@nlsq/nlsq/strategies";
 * const ev = createDenseEvaluator((p) => [p[0] - 1], 1, 1);
 * const evaluator: StrategyEvaluator = { ...ev, evaluate: ev.evaluate.bind(ev), backend: "cpu", close: () => {} } as unknown as StrategyEvaluator;
 * const plan: PolishPlan = { evaluator, x0: new Float64Array([1]), reason: "f32 solve" };
 * assert.strictEqual(plan.reason, "f32 solve");
 * ```
 */
export interface PolishPlan {
  /** A double-precision evaluator of the same problem. */
  readonly evaluator: StrategyEvaluator;
  /** Where the polish starts. */
  readonly x0: Float64Array;
  /** Why, for the fit's notes. */
  readonly reason: string;
}

/**
 * A pluggable fitting strategy.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { standardStrategy } from "@nlsq/nlsq/strategies";
 * import type { Strategy } from "@nlsq/nlsq/strategies";
 * const s: Strategy = standardStrategy;
 * assert.strictEqual(s.name, "standard");
 * assert.ok(s.accepts.includes("memory"));
 * ```
 */
export interface Strategy {
  /** Registry name, e.g. "standard". */
  readonly name: string;
  /** One line for `--help` and logs. */
  readonly description: string;
  /** Whether the strategy accepts in-memory arrays, sources, or both. */
  readonly accepts: readonly ("memory" | "source")[];
  /** Builds the evaluator for the data. */
  createEvaluator(ctx: StrategyContext): Promise<StrategyEvaluator>;
}

const registry = new Map<string, Strategy>();

function checkStrategy(s: Strategy): void {
  if (s === null || typeof s !== "object") {
    throw new TypeError("registerStrategy: strategy must be an object");
  }
  if (typeof s.name !== "string" || !/^[A-Za-z_][\w-]*$/.test(s.name)) {
    throw new TypeError(
      `registerStrategy: strategy.name must be an identifier-like string, got ${
        JSON.stringify(s.name)
      }`,
    );
  }
  if (typeof s.createEvaluator !== "function") {
    throw new TypeError(
      `registerStrategy: strategy "${s.name}" needs a createEvaluator(ctx) method`,
    );
  }
}

/**
 * Registers a strategy under its name, replacing any earlier one of the same
 * name (so a user can swap in their own "chunked", say).
 *
 * @example A user-defined strategy, selected by name in `fit`
 * ```ts
 * import assert from "node:assert";
 * import { fit, model, registerStrategy } from "@nlsq/nlsq";
 * import { getStrategy } from "@nlsq/nlsq/strategies";
 * let used = 0;
 * registerStrategy({
 *   name: "my_standard",
 *   description: "standard, but counting",
 *   accepts: ["memory"],
 *   async createEvaluator(ctx) {
 *     used++;
 *     return getStrategy("standard")!.createEvaluator(ctx);
 *   },
 * });
 * const r = await fit(model("a * x"), [1, 2, 3], [2, 4, 6], {
 *   p0: [1],
 *   workflow: "my_standard",
 * });
 * assert.strictEqual(r.strategy, "my_standard");
 * assert.strictEqual(used, 1);
 * assert.ok(Math.abs(r.popt[0] - 2) < 1e-12);
 * ```
 */
export function registerStrategy(strategy: Strategy): void {
  checkStrategy(strategy);
  registry.set(strategy.name, strategy);
}

/**
 * Looks a strategy up by name.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { getStrategy } from "@nlsq/nlsq/strategies";
 * assert.strictEqual(getStrategy("chunked")?.name, "chunked");
 * assert.strictEqual(getStrategy("nope"), undefined);
 * ```
 */
export function getStrategy(name: string): Strategy | undefined {
  return registry.get(name);
}

/**
 * Names of all registered strategies.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { listStrategies } from "@nlsq/nlsq/strategies";
 * assert.ok(listStrategies().includes("standard"));
 * ```
 */
export function listStrategies(): string[] {
  return [...registry.keys()];
}
