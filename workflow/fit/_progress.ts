/**
 * Progress of one fit: the solver's iterations and the strategy's passes
 * over the data, forwarded to `onProgress` (with the solver's counters and
 * an estimate of the time left in a pass) and to the verbose log, and the
 * position in the data remembered for checkpoints.
 *
 * @module
 */

import type { IterationInfo } from "../../core/solver_types.ts";
import type { PassProgress } from "../../strategies/strategy.ts";
import type { CheckpointProgress } from "../../checkpoint/checkpoint.ts";
import type { FitProgress } from "../fit_options.ts";
import { ProgressReporter } from "./_progress_reporter.ts";

/** What one fit reports while it runs. */
export class FitProgressTracker {
  readonly #reporter: ProgressReporter<FitProgress>;
  readonly #wanted: boolean;
  readonly #verbose: number;
  readonly #t0: number;
  readonly #unscale: (cost: number) => number;
  #last = { nit: 0, nfev: 0, cost: NaN };
  #lastPass: CheckpointProgress | null = null;
  #passNo = 0;
  #passT0: number;
  #lastBatchAt: number;
  #prevPassMs: number | undefined;

  /**
   * `unscale` turns the solver's (possibly scaled) cost into the caller's;
   * `t0` is when the fit started (performance.now()).
   */
  constructor(
    onProgress: ((p: FitProgress) => void) | undefined,
    verbose: number,
    t0: number,
    unscale: (cost: number) => number,
  ) {
    this.#reporter = new ProgressReporter(onProgress);
    this.#wanted = onProgress !== undefined;
    this.#verbose = verbose;
    this.#t0 = t0;
    this.#unscale = unscale;
    this.#passT0 = this.#lastBatchAt = performance.now();
  }

  /** The callback's failure, once it failed. */
  get failure(): { error: unknown } | null {
    return this.#reporter.failure;
  }

  /** Where the last pass was, for checkpoints (null outside passes). */
  get lastPass(): CheckpointProgress | null {
    return this.#lastPass;
  }

  /**
   * Reports a solver iteration of start `k`: a promise of the callback's
   * end, or nothing when there is neither a callback nor verbose output.
   */
  iteration(k: number, info: IterationInfo): Promise<void> | undefined {
    const cost = this.#unscale(info.cost);
    this.#last = { nit: info.nit, nfev: info.nfev, cost };
    if (!this.#wanted && this.#verbose < 2) return undefined;
    if (this.#verbose >= 2) {
      console.error(
        `nlsq: start ${k} iter ${info.nit} nfev ${info.nfev} cost ${
          cost.toExponential(6)
        } optimality ${info.optimality.toExponential(3)} step ${
          info.stepNorm.toExponential(3)
        }`,
      );
    }
    return this.#reporter.report({
      phase: "iteration",
      start: k,
      nit: info.nit,
      nfev: info.nfev,
      cost,
      elapsedMs: performance.now() - this.#t0,
    });
  }

  /** Reports a batch of a pass over the data (not awaited: inside a pass). */
  readonly pass = (pp: PassProgress): void => {
    const now = performance.now();
    if (pp.pass !== this.#passNo) {
      if (this.#passNo > 0) this.#prevPassMs = this.#lastBatchAt - this.#passT0;
      this.#passNo = pp.pass;
      this.#passT0 = this.#lastBatchAt;
    }
    this.#lastBatchAt = now;
    this.#lastPass = {
      pass: pp.pass,
      batch: pp.batch,
      pointsProcessed: pp.pointsProcessed,
    };
    if (!this.#wanted) return;
    const elapsed = (now - this.#passT0) / 1000;
    const etaSeconds = pp.totalPoints !== undefined && pp.pointsProcessed > 0
      ? Math.max(0, pp.totalPoints - pp.pointsProcessed) * elapsed /
        pp.pointsProcessed
      : this.#prevPassMs !== undefined
      ? Math.max(0, this.#prevPassMs / 1000 - elapsed)
      : undefined;
    this.#reporter.reportNow({
      phase: "pass",
      start: 0,
      // The solver's counters as of its last iteration.
      ...this.#last,
      pass: pp.pass,
      batch: pp.batch,
      pointsProcessed: pp.pointsProcessed,
      totalPoints: pp.totalPoints,
      etaSeconds,
      elapsedMs: now - this.#t0,
    });
  };

  /** Waits for reports still running; throws the callback's failure. */
  settle(): Promise<void> {
    return this.#reporter.settle();
  }
}
