/**
 * The subsample warm start of the in-memory strategies: a fit on an evenly
 * spread sample of the rows gives a start within the sampling noise of the
 * solution, so the full-data solver needs two or three passes instead of
 * five or six. The full-data fit keeps its own convergence tests, so the
 * answer is a solution of the whole problem at the requested tolerances.
 *
 * @module
 */

import { EvaluationCache } from "../core/_evaluation_cache.ts";
import type { WeightedData } from "../core/weights.ts";
import type { Evaluation, Evaluator } from "../core/linearization.ts";
import { createCpuEvaluator } from "../core/cpu_evaluator.ts";
import type {
  InMemoryData,
  StrategyContext,
  StrategyEvaluator,
} from "./strategy.ts";

/**
 * In-memory fits of at least this many points start from a subsample fit
 * (below it the passes saved cost less than the sample fit).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.strictEqual(WARM_START_MIN_POINTS, 200_000);
 * ```
 */
export const WARM_START_MIN_POINTS = 200_000;

/**
 * Smallest and largest default subsample, in rows (default n / 50). Measured
 * on exp3 and gauss6 at 1e6 and 1e7 points: samples of 20k to 200k rows all
 * lead to 3 full passes, so the larger ones only add sample-fit time.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.ok(WARM_START_ROWS.min < WARM_START_ROWS.max);
 * ```
 */
export const WARM_START_ROWS = { min: 20_000, max: 50_000 } as const;

/**
 * Most rows of one run of a sample: a file is read in runs of consecutive
 * rows, not row by row.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.strictEqual(SAMPLE_RUN_ROWS, 256);
 * ```
 */
export const SAMPLE_RUN_ROWS = 256;

/** One run of consecutive rows of a sample. */
export interface SampleRun {
  /** Index of its first row. */
  readonly start: number;
  /** Rows in the run. */
  readonly rows: number;
}

/**
 * The layout of an evenly spread sample of `rows` of `n` rows: runs of up
 * to {@linkcode SAMPLE_RUN_ROWS} consecutive rows, of equal length within
 * one row, spread over the whole range. The one layout of the in-memory and
 * the streaming warm starts, so that the same data gives the same sample,
 * start and answer whether it is held or streamed.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.deepStrictEqual(sampleRuns(10_000, 601), [
 *   { start: 0, rows: 201 },
 *   { start: 3333, rows: 200 },
 *   { start: 6666, rows: 200 },
 * ]);
 * ```
 */
export function sampleRuns(n: number, rows: number): SampleRun[] {
  const want = Math.max(1, Math.min(n, Math.floor(rows)));
  const runs = Math.ceil(want / SAMPLE_RUN_ROWS);
  const base = Math.floor(want / runs), extra = want - base * runs;
  return Array.from({ length: runs }, (_, r) => {
    const len = base + (r < extra ? 1 : 0);
    const start = Math.max(0, Math.min(n - len, Math.floor((r * n) / runs)));
    return { start, rows: len };
  });
}

/**
 * An evenly spread sample of `rows` rows (the runs of
 * {@linkcode sampleRuns}): it represents the whole range.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const x = Float64Array.from({ length: 1000 }, (_, i) => i);
 * const s = sampleRows({ kind: "memory", x: [x], y: x, w: null }, 512);
 * assert.deepStrictEqual([s.y.length, s.y[0], s.y[255], s.y[256]], [512, 0, 255, 500]);
 * ```
 */
export function sampleRows(data: InMemoryData, rows: number): WeightedData {
  const runs = sampleRuns(data.y.length, rows);
  const pick = (a: Float64Array) => {
    const out = new Float64Array(runs.reduce((t, r) => t + r.rows, 0));
    let at = 0;
    for (const r of runs) {
      out.set(a.subarray(r.start, r.start + r.rows), at);
      at += r.rows;
    }
    return out;
  };
  return {
    x: data.x.map(pick),
    y: pick(data.y),
    w: data.w ? pick(data.w) : null,
  };
}

/**
 * A strategy evaluator that can be primed with one evaluation the warm
 * start already computed, which it returns for the solver's first request
 * of the same point instead of making another pass.
 *
 * @example
 * ```ts
 * import type { PrimedEvaluator } from "./_warm_start.ts";
 * const use = (ev: PrimedEvaluator) => ev.prime(new Float64Array([1]), { cost: 0 });
 * void use;
 * ```
 */
export interface PrimedEvaluator extends StrategyEvaluator {
  /** Remembers `e` as the evaluation at `theta` for the next request. */
  prime(theta: Float64Array, e: Evaluation): void;
  /** Appends a line to the evaluator's notes. */
  addNote(note: string): void;
}

/**
 * Wraps `inner` so that it can be primed (see {@linkcode PrimedEvaluator}).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * let passes = 0;
 * const ev = primedEvaluator({
 *   nParams: 1, nResiduals: 1, backend: "demo", close() {},
 *   evaluate: (t) => (passes++, Promise.resolve(t.map(() => ({ cost: 1 })))),
 * });
 * ev.prime(new Float64Array([2]), { cost: 5 });
 * const [e] = await ev.evaluate([new Float64Array([2])], [false]);
 * assert.deepStrictEqual([e.cost, passes], [5, 0]);
 * ```
 */
export function primedEvaluator(inner: StrategyEvaluator): PrimedEvaluator {
  return new Primed(inner);
}

/**
 * The wrapper of {@linkcode primedEvaluator}: a class, so that its getters
 * live on the prototype (an object literal makes a closure of each getter
 * on every fit).
 */
class Primed implements PrimedEvaluator {
  readonly #inner: StrategyEvaluator;
  // One entry: the warm start's point, until the solver has asked for it.
  readonly #cache = new EvaluationCache(1);
  readonly #extra: string[] = [];
  declare warmStart?: StrategyEvaluator["warmStart"];

  constructor(inner: StrategyEvaluator) {
    this.#inner = inner;
  }
  get nParams(): number {
    return this.#inner.nParams;
  }
  get nResiduals(): number {
    return this.#inner.nResiduals;
  }
  get backend(): string {
    return this.#inner.backend;
  }
  get backendInfo(): StrategyEvaluator["backendInfo"] {
    return this.#inner.backendInfo;
  }
  get notes(): string[] {
    return [...(this.#inner.notes ?? []), ...this.#extra];
  }
  get checkpointEvery(): StrategyEvaluator["checkpointEvery"] {
    return this.#inner.checkpointEvery;
  }
  get isCheckpointWriter(): StrategyEvaluator["isCheckpointWriter"] {
    return this.#inner.isCheckpointWriter;
  }
  get polish(): StrategyEvaluator["polish"] {
    return this.#inner.polish;
  }
  get firstPhase(): StrategyEvaluator["firstPhase"] {
    return this.#inner.firstPhase;
  }
  prime(theta: Float64Array, e: Evaluation): void {
    this.#cache.store(theta, e);
  }
  addNote(note: string): void {
    this.#extra.push(note);
  }
  evaluate(
    thetas: readonly Float64Array[],
    withJacobian: readonly boolean[],
  ): Promise<Evaluation[]> {
    const hit = thetas.length === 1
      ? this.#cache.lookup(thetas[0], withJacobian[0])
      : undefined;
    this.#cache.clear();
    if (hit) return Promise.resolve([hit]);
    try {
      return this.#inner.evaluate(thetas, withJacobian);
    } catch (e) {
      // As the async function this was: a failure is a rejection.
      return Promise.reject(e);
    }
  }
  close(): ReturnType<StrategyEvaluator["close"]> {
    return this.#inner.close();
  }
}

/**
 * Reads the warm-start settings of a strategy configuration: the sample size
 * in rows, or null for no warm start.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.strictEqual(warmStartRowsOf(null, 1e6), 20_000);
 * assert.strictEqual(warmStartRowsOf({ warmStart: false }, 1e6), null);
 * ```
 */
export function warmStartRowsOf(
  config: Readonly<Record<string, unknown>> | null,
  n: number,
): number | null {
  const cfg = config ?? {};
  if (cfg.warmStart === false) return null;
  if (cfg.warmStart !== undefined && cfg.warmStart !== true) {
    throw new TypeError(
      `warmStart must be true or false, got ${cfg.warmStart}`,
    );
  }
  if (cfg.warmStartRows !== undefined) {
    const r = cfg.warmStartRows;
    if (typeof r !== "number" || !Number.isSafeInteger(r) || r < 1) {
      throw new RangeError(`warmStartRows must be an integer >= 1, got ${r}`);
    }
    return r;
  }
  if (n < WARM_START_MIN_POINTS) return null;
  return Math.min(
    WARM_START_ROWS.max,
    Math.max(WARM_START_ROWS.min, Math.floor(n / 50)),
  );
}

/** A subsample fit: the warm start and the sample's cost at p0. */
export interface SampleFit {
  /** The parameters that fit the sample. */
  readonly x: Float64Array;
  /** The sample's cost at p0 (for the guard's estimate). */
  readonly costP0: number;
  /** Rows in the sample. */
  readonly rows: number;
}

/**
 * Fits `sample` on the CPU from `p0`: the warm start with the sample's cost
 * at p0 (recorded from the solver's own evaluation of p0), or null when the
 * sample is too small or the fit fails (a failed warm start only costs its
 * time; an abort is rethrown).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { model } from "../mod.ts";
 * import { solve } from "../core/solve.ts";
 * import { resolveSolverOptions } from "../core/_validate.ts";
 * const x = new Float64Array([0, 1, 2, 3]);
 * const ctx = { model: model("a * x + b"), loss: "linear", fScale: 1 };
 * const f = await fitSample(
 *   ctx as never,
 *   new Float64Array([0, 0]),
 *   async (ev, x0) => (await solve(ev, x0, resolveSolverOptions({}, 2, 4))).x,
 *   { x: [x], y: x.map((t) => 2 * t + 1), w: null },
 * );
 * assert.ok(Math.abs(f!.x[0] - 2) < 1e-10);
 * assert.strictEqual(f!.costP0, 0.5 * (1 + 9 + 25 + 49));
 * ```
 */
export async function fitSample(
  ctx: Pick<StrategyContext, "model" | "loss" | "fScale" | "signal">,
  p0: Float64Array,
  solveOn: (ev: Evaluator, x0: Float64Array) => Promise<Float64Array>,
  sample: WeightedData,
): Promise<SampleFit | null> {
  if (sample.y.length < Math.max(2 * ctx.model.params.length, 1)) return null;
  const inner = createCpuEvaluator(ctx.model, sample, {
    loss: ctx.loss,
    fScale: ctx.fScale,
    accumulation: "auto",
  });
  let costP0 = NaN;
  const isP0 = (t: Float64Array) => t.every((v, i) => Object.is(v, p0[i]));
  const ev: Evaluator = {
    ...inner,
    async evaluate(thetas, withJacobian) {
      const out = await inner.evaluate(thetas, withJacobian);
      const k = Number.isNaN(costP0) ? thetas.findIndex(isP0) : -1;
      if (k >= 0) costP0 = out[k].cost;
      return out;
    },
  };
  try {
    const x = await solveOn(ev, p0);
    // The solver may start from a moved p0 (bounds): then one cost pass.
    if (Number.isNaN(costP0)) await ev.evaluate([p0], [false]);
    return { x, costP0, rows: sample.y.length };
  } catch (e) {
    if (ctx.signal?.aborted) throw e;
    return null;
  }
}

/**
 * The guard skips evaluating p0 on all the rows when the warm start's cost on
 * all rows is below this fraction of p0's cost estimated from the sample
 * (the sample's cost scaled by rows): a start guess is typically orders of
 * magnitude worse than the solution, and a sampling error of a factor of 4
 * in a mean of squares over 20 000 or more evenly spread rows would take
 * aliased data. Otherwise p0 is evaluated on all rows and compared exactly.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.ok(GUARD_MARGIN > 0 && GUARD_MARGIN < 1);
 * ```
 */
export const GUARD_MARGIN = 0.25;

/** What {@linkcode guardWarmStart} decided. */
export interface GuardOutcome {
  /** The start to use: the warm start, or p0. */
  readonly start: Float64Array;
  /** The evaluation at the warm start on all rows (with its linearization). */
  readonly atWarmStart: Evaluation;
  /** A line for the fit's notes. */
  readonly note: string;
}

/**
 * Checks a warm start `xw` on all the data with `ev`: its cost and
 * linearization in one pass, and p0's cost on all rows only when the
 * sample's cost at p0 (`sampleCostP0` over `sampleRows` of `nRows` rows)
 * does not already show p0 to be far worse (see {@linkcode GUARD_MARGIN}).
 * Returns xw when it is no worse than p0 on all rows, else p0.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const ev = {
 *   nParams: 1,
 *   nResiduals: 100,
 *   evaluate: (t: readonly Float64Array[]) =>
 *     Promise.resolve(t.map((x) => ({ cost: (x[0] - 3) ** 2 * 100 }))),
 * };
 * const g = await guardWarmStart(ev, new Float64Array([0]), new Float64Array([2.9]), 9, 1, 100);
 * assert.strictEqual(g.start[0], 2.9); // 1 << 0.25 * 9 * 100: p0 not evaluated
 * ```
 */
export async function guardWarmStart(
  ev: Evaluator,
  p0: Float64Array,
  xw: Float64Array,
  sampleCostP0: number,
  sampleRows: number,
  nRows: number,
): Promise<GuardOutcome> {
  const [ew] = await ev.evaluate([xw], [true]);
  const estimate = sampleCostP0 * (nRows / sampleRows);
  if (Number.isFinite(ew.cost) && ew.cost <= GUARD_MARGIN * estimate) {
    return {
      start: xw,
      atWarmStart: ew,
      note: `cost on all rows ${ew.cost.toExponential(3)} at the warm start, ` +
        `${estimate.toExponential(3)} at p0 (estimated from the sample)`,
    };
  }
  const [e0] = await ev.evaluate([p0], [false]);
  const keep = Number.isFinite(ew.cost) && !(ew.cost > e0.cost);
  return {
    start: keep ? xw : p0,
    atWarmStart: ew,
    note: keep
      ? `cost on all rows ${ew.cost.toExponential(3)} at the warm start, ` +
        `${e0.cost.toExponential(3)} at p0`
      : `cost on all rows ${ew.cost.toExponential(3)} is not below ` +
        `${e0.cost.toExponential(3)} at p0`,
  };
}

/**
 * Fits `sample` on the CPU from `p0`, then checks the result on all the data
 * with `ev` ({@linkcode guardWarmStart}) and returns whichever is better. The
 * warm start's evaluation is primed into `ev`, so the solver's first request
 * costs no pass. `what` describes the sample in the fit's notes.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * // fit() calls it through the standard and chunked strategies:
 * import { fit } from "../mod.ts";
 * const x = Array.from({ length: 300_000 }, (_, i) => i / 1e5);
 * const r = await fit("a * x + b", x, x.map((t) => 2 * t + 1), { p0: [1, 0] });
 * assert.ok(r.notes.some((l) => l.startsWith("warm start")));
 * ```
 */
export async function subsampleWarmStart(
  ctx: StrategyContext,
  p0: Float64Array,
  solveOn: (ev: Evaluator, x0: Float64Array) => Promise<Float64Array>,
  ev: PrimedEvaluator,
  sample: WeightedData,
  what = `an evenly spread sample of ${sample.y.length} rows`,
): Promise<Float64Array> {
  const t0 = performance.now();
  const f = await fitSample(ctx, p0, solveOn, sample);
  if (f === null) return p0;
  const xw = f.x;
  const g = await guardWarmStart(ev, p0, xw, f.costP0, f.rows, ev.nResiduals);
  const ms = (performance.now() - t0).toFixed(1);
  if (g.start === xw) {
    ev.prime(xw, g.atWarmStart);
    ev.addNote(
      `warm start: fit on ${what}, then all rows (${ms} ms; ${g.note})`,
    );
    return xw;
  }
  ev.addNote(`warm start on ${sample.y.length} rows rejected: ${g.note}`);
  return p0;
}

/**
 * The warm start of the in-memory strategies: a subsample fit when the
 * data are in memory, large enough (or `warmStartRows` is set) and the
 * strategy kept its primed evaluator `ev`; else `p0`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { fit } from "../mod.ts";
 * const x = Array.from({ length: 1000 }, (_, i) => i / 100);
 * const r = await fit("a * x + b", x, x.map((t) => 2 * t + 1), {
 *   p0: [1, 0],
 *   workflow: { strategy: "standard", config: { warmStartRows: 100 } },
 * });
 * assert.ok(r.notes.some((l) => l.includes("sample of 100 rows")));
 * ```
 */
export async function inMemoryWarmStart(
  ctx: StrategyContext,
  p0: Float64Array,
  solveOn: (ev: Evaluator, x0: Float64Array) => Promise<Float64Array>,
  ev: PrimedEvaluator | undefined,
): Promise<Float64Array> {
  if (!ev || ctx.data.kind !== "memory") return p0;
  const n = ctx.data.y.length;
  const rows = warmStartRowsOf(ctx.config, n);
  // No saving when the sample is not much smaller than the data.
  if (rows === null || rows * 2 > n) return p0;
  return await subsampleWarmStart(
    ctx,
    p0,
    solveOn,
    ev,
    sampleRows(ctx.data, rows),
  );
}
