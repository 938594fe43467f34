/**
 * Shared passes for concurrent solver runs (multi-start).
 *
 * @module
 */

import type { Evaluation, Evaluator } from "../../core/linearization.ts";

/**
 * Collects the evaluate calls of concurrent solver runs (multi-start) into
 * shared passes over the data: a pass starts once every active run is
 * waiting, so one pass serves all starts without any timer.
 */
export class BatchingEvaluator implements Evaluator {
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
