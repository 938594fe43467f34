/**
 * Runs the solver chosen by `method` on an evaluator.
 *
 * @module
 */

import type { Evaluator } from "./linearization.ts";
import type { ResolvedSolverOptions } from "./_validate.ts";
import type {
  IterationInfo,
  SolverResult,
  SolverState,
} from "./solver_types.ts";
import { lm } from "./lm.ts";
import { trf } from "./trf.ts";
import { probeNullSpace } from "./_null_space_probe.ts";

/** Extra run-time controls for {@linkcode solve}. */
export interface SolveControls {
  /** Stops the solver between iterations. */
  readonly signal?: AbortSignal;
  /** Called after every iteration. */
  readonly onIteration?: (info: IterationInfo) => void | Promise<void>;
  /** Continue from a saved solver state. */
  readonly resume?: SolverState;
  /**
   * The rounding level of the cost (e.g. `eps * 0.5 * sum((w y)^2)`): cost
   * differences below it are noise. Called only when needed.
   */
  readonly costFloor?: () => number;
}

/**
 * Solves with TRF or LM per `o.method`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { model } from "@nlsq/nlsq";
 * import { createCpuEvaluator } from "./cpu_evaluator.ts";
 * import { resolveSolverOptions } from "./_validate.ts";
 * const m = model("a * x + b");
 * const ev = createCpuEvaluator(m, {
 *   x: [new Float64Array([0, 1, 2, 3])],
 *   y: new Float64Array([1, 3, 5, 7]),
 *   w: null,
 * });
 * const r = await solve(ev, new Float64Array([0, 0]), resolveSolverOptions({}, 2, 4));
 * assert.ok(Math.abs(r.x[0] - 2) < 1e-10 && Math.abs(r.x[1] - 1) < 1e-10);
 * ```
 */
export async function solve(
  ev: Evaluator,
  x0: Float64Array,
  o: ResolvedSolverOptions,
  controls: SolveControls = {},
): Promise<SolverResult> {
  const run = (x: Float64Array, maxNfev: number, resume?: SolverState) => {
    const opts = {
      lower: o.lower,
      upper: o.upper,
      ftol: o.ftol,
      xtol: o.xtol,
      gtol: o.gtol,
      maxNfev,
      xScale: o.xScale,
      signal: controls.signal,
      onIteration: controls.onIteration,
      resume,
    };
    switch (o.method) {
      case "trf":
        return trf(ev, x, opts);
      case "lm":
        return lm(ev, x, opts);
      default: {
        // A method added to METHOD_NAMES without a solver here.
        const never: never = o.method;
        throw new TypeError(`solve: unknown method ${never}`);
      }
    }
  };
  let r = await run(x0, o.maxNfev, controls.resume);
  // A converged point with a rank-deficient Jacobian may be a saddle that a
  // symmetric start cannot leave: probe its null space, restart if lower.
  for (let k = 0; k < ev.nParams && r.status > 0; k++) {
    const probe = await probeNullSpace(
      ev,
      r.x,
      r.factor,
      o.lower,
      o.upper,
      controls.costFloor,
    );
    const nfev = r.nfev + probe.nfev;
    if (!probe.point || nfev >= o.maxNfev) {
      r = { ...r, nfev };
      break;
    }
    const next = await run(probe.point.x, o.maxNfev - nfev);
    r = {
      ...next,
      nfev: nfev + next.nfev,
      njev: r.njev + next.njev,
      nit: r.nit + next.nit,
    };
  }
  return detached(r);
}

/**
 * The result with x, and the factor's arrays in one buffer, of their own:
 * the solvers build them in shared slabs (core/_small_f64.ts), which a
 * result kept by the caller must not hold alive. (x may become the
 * caller's popt as it is, so it gets a buffer of exactly its size.)
 */
function detached(r: SolverResult): SolverResult {
  const { f, qtf, g, colNorms } = r.factor;
  const own = new Float64Array(
    f.length + qtf.length + g.length + colNorms.length,
  );
  let end = 0;
  const copy = (a: Float64Array) => {
    own.set(a, end);
    end += a.length;
    return own.subarray(end - a.length, end);
  };
  return {
    ...r,
    x: r.x.slice(),
    factor: {
      ...r.factor,
      f: copy(f),
      qtf: copy(qtf),
      g: copy(g),
      colNorms: copy(colNorms),
    },
  };
}
