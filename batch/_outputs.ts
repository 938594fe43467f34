/**
 * The columnar outputs of a batch engine (what every engine fills, the
 * CPU one and a future WebGPU one alike), the per-fit status codes and
 * their messages.
 *
 * @module
 */

import { TERMINATION_MESSAGES } from "../core/solver_types.ts";

/** What an engine writes, by fit. */
export interface BatchOutputs {
  /** nFits * p parameters (NaN for a fit not fitted). */
  readonly popt: Float64Array;
  /** nFits * p standard errors (NaN where the covariance is still to do). */
  readonly perr: Float64Array;
  /** Final cost per fit (least squares: 0.5 chi^2; Poisson: deviance / 2). */
  readonly cost: Float64Array;
  /** R^2 of the unweighted residuals per fit. */
  readonly rsq: Float64Array;
  /** Function evaluations per fit. */
  readonly nfev: Int32Array;
  /** Accepted steps per fit. */
  readonly nit: Int32Array;
  /** Status code per fit ({@linkcode BATCH_STATUS}). */
  readonly status: Int8Array;
  /** Bits of {@linkcode FLAG_COVARIANCE} and {@linkcode FLAG_PRECISION}. */
  readonly flags: Uint8Array;
}

/** The engine left the covariance to the SVD path (J^T J singular). */
export const FLAG_COVARIANCE = 1;
/** The fit stopped because no step could lower the cost any further. */
export const FLAG_PRECISION = 2;

/**
 * Status codes of a fit: scipy's (0 maxNfev, 1 gtol, 2 ftol, 3 xtol,
 * 4 ftol and xtol) and negative codes for a fit that could not be fitted.
 */
export const BATCH_STATUS = Object.freeze({
  MAX_NFEV: 0,
  GTOL: 1,
  FTOL: 2,
  XTOL: 3,
  FTOL_XTOL: 4,
  /** Fewer usable points than free parameters. */
  NOT_ENOUGH_POINTS: -3,
  /** p0 not finite, outside the bounds, or the model not finite at p0. */
  BAD_START: -4,
  /** NaN or Infinity in the fit's data (nanPolicy "flag"). */
  BAD_DATA: -5,
});

/** Zeroed outputs for `nFits` fits of `p` parameters, in shared memory when asked. */
export function allocateOutputs(
  nFits: number,
  p: number,
  shared: boolean,
): BatchOutputs {
  const buf = (bytes: number) =>
    shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
  return {
    popt: new Float64Array(buf(8 * nFits * p)),
    perr: new Float64Array(buf(8 * nFits * p)),
    cost: new Float64Array(buf(8 * nFits)),
    rsq: new Float64Array(buf(8 * nFits)),
    nfev: new Int32Array(buf(4 * nFits)),
    nit: new Int32Array(buf(4 * nFits)),
    status: new Int8Array(buf(nFits)),
    flags: new Uint8Array(buf(nFits)),
  };
}

/**
 * The message of a status code; `detail` says more about a negative one.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { BATCH_STATUS, statusMessage } from "./_outputs.ts";
 * assert.match(statusMessage(2, 0), /ftol/);
 * assert.match(statusMessage(BATCH_STATUS.BAD_DATA, 0, "y[3] is NaN"), /y\[3\] is NaN/);
 * ```
 */
export function statusMessage(
  status: number,
  flags: number,
  detail = "",
): string {
  const more = detail ? `: ${detail}` : "";
  switch (status) {
    case BATCH_STATUS.NOT_ENOUGH_POINTS:
      return `Not enough usable points to fit${more}.`;
    case BATCH_STATUS.BAD_START:
      return `The start is not usable${more}.`;
    case BATCH_STATUS.BAD_DATA:
      return `The data of this fit contain NaN or Infinity (nanPolicy "flag")${more}.`;
  }
  const base = TERMINATION_MESSAGES[status] ?? `Unknown status ${status}.`;
  return flags & FLAG_PRECISION
    ? `${base} (no further progress is possible at machine precision)`
    : base;
}
