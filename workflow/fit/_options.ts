/**
 * The values of `fit`'s options, checked before any data is read: every
 * error is a TypeError (wrong kind of value) or RangeError (a number out of
 * range) that names the option. The names were checked by `fit` itself.
 */

import {
  checkedVector,
  checkSolverOptionValues,
  type NumVec,
  showValue,
} from "../../core/_validate.ts";
import type { FitOptions } from "../fit.ts";
import {
  assertBoolean,
  assertInteger,
  assertNonEmptyString,
  assertOneOf,
  assertPositiveFinite,
  assertThreads,
} from "../_validate.ts";
import {
  BACKEND_NAMES,
  type BackendName,
} from "../../strategies/backend_name.ts";

/** The options `fit` uses in normalized form. */
export interface CheckedFitOptions {
  verbose: 0 | 1 | 2;
  backend: BackendName;
  nanPolicy: "raise" | "omit";
}

/** Checks every option value of a fit with `nParams` parameters. */
export function checkFitOptions(
  options: FitOptions,
  nParams: number,
): CheckedFitOptions {
  checkSolverOptionValues(options);
  const p0 = options.p0;
  // A vector, or an object of starts by name (checked with the model's names).
  if (
    p0 !== undefined &&
    (typeof p0 !== "object" || p0 === null || Array.isArray(p0) ||
      ArrayBuffer.isView(p0))
  ) checkedVector(p0 as NumVec, "p0", nParams);
  const checked: CheckedFitOptions = {
    verbose: assertOneOf("verbose", options.verbose ?? 0, [0, 1, 2] as const),
    backend: assertOneOf("backend", options.backend ?? "auto", BACKEND_NAMES),
    nanPolicy: assertOneOf(
      "nanPolicy",
      options.nanPolicy ?? "raise",
      ["raise", "omit"] as const,
    ),
  };
  if (options.absoluteSigma !== undefined) {
    assertBoolean("absoluteSigma", options.absoluteSigma);
  }
  if (options.threads !== undefined) assertThreads("threads", options.threads);
  if (options.memoryLimitGb !== undefined) {
    assertPositiveFinite("memoryLimitGb", options.memoryLimitGb);
  }
  if (options.seed !== undefined) {
    assertInteger("seed", options.seed, Number.MIN_SAFE_INTEGER);
  }
  checkCheckpointOptions(options);
  if (
    options.onProgress !== undefined &&
    typeof options.onProgress !== "function"
  ) {
    throw new TypeError(
      `onProgress must be a function, got ${showValue(options.onProgress)}`,
    );
  }
  return checked;
}

function checkCheckpointOptions(options: FitOptions): void {
  if (options.checkpointDir !== undefined) {
    // "" would write checkpoints into the current directory.
    assertNonEmptyString("checkpointDir", options.checkpointDir);
  }
  const resume = options.resume;
  if (
    resume !== undefined && typeof resume !== "boolean" &&
    (typeof resume !== "string" || resume === "")
  ) {
    throw new TypeError(
      `resume must be true, false or a checkpoint path, got ${
        showValue(resume)
      }`,
    );
  }
  if (resume === true && options.checkpointDir === undefined) {
    throw new TypeError(
      "resume: true needs checkpointDir (or pass a checkpoint path)",
    );
  }
  for (const key of ["checkpointEvery", "checkpointKeep"] as const) {
    if (options[key] !== undefined) assertInteger(key, options[key], 1);
  }
}
