/**
 * The step, lmfit's `StepModel`, in its four forms.
 *
 * @module
 */

import type { BuiltinModel } from "./builtin_model.ts";
import {
  checkFactoryOptions,
  createLeaf,
  type ModelFactoryOptions,
} from "./_leaf.ts";
import { stepGuess } from "./_sigmoid_guess.ts";
import { bestRamp } from "./_ramp.ts";

/**
 * The forms of {@linkcode step} (lmfit's, `arctan` being `atan`).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { STEP_FORMS } from "@nlsq/nlsq/model";
 * assert.deepStrictEqual(STEP_FORMS, ["linear", "atan", "arctan", "erf", "logistic"]);
 * ```
 */
export const STEP_FORMS = [
  "linear",
  "atan",
  "arctan",
  "erf",
  "logistic",
] as const;

/**
 * A form of {@linkcode step}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { StepForm } from "@nlsq/nlsq/model";
 * const f: StepForm = "erf";
 * assert.strictEqual(f, "erf");
 * ```
 */
export type StepForm = typeof STEP_FORMS[number];

/**
 * Options of {@linkcode step}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { models } from "@nlsq/nlsq";
 * import type { StepOptions } from "@nlsq/nlsq/model";
 * const o: StepOptions = { form: "atan" };
 * assert.match(models.step(o).expression, /atan/);
 * ```
 */
export interface StepOptions extends ModelFactoryOptions {
  /** The shape of the rise (default "linear", as in lmfit). */
  readonly form?: StepForm;
}

/** Expression and 25%-75% width (in sigma) of each form. */
const FORMS: Readonly<Record<StepForm, { rise: string; spread: number }>> = {
  linear: { rise: "min(1, max(0, (x - center) / sigma + 0.5))", spread: 0.5 },
  atan: { rise: "(0.5 + atan((x - center) / sigma) / pi)", spread: 2 },
  arctan: { rise: "(0.5 + atan((x - center) / sigma) / pi)", spread: 2 },
  erf: {
    rise: "(1 + erf((x - center) / sigma)) / 2",
    spread: 0.9538725524089398, // 2 erfinv(1/2)
  },
  logistic: {
    rise: "(1 - 1 / (1 + exp((x - center) / sigma)))",
    spread: 2 * Math.log(3),
  },
};

/**
 * A step from 0 to `amplitude`, half way at `center`, of width `sigma`
 * (lmfit's `StepModel`): `amplitude * s((x - center) / sigma)` with s one of
 * `linear` (a ramp, `min(1, max(0, t + 1/2))`), `atan`, `erf` or
 * `logistic`; `sigma >= 0`.
 *
 * @throws {TypeError} for an unknown form.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { models } from "@nlsq/nlsq";
 * const m = models.step({ form: "erf" });
 * const y = m.evaluate([new Float64Array([2])], [4, 2, 1]);
 * assert.strictEqual(y[0], 2); // half way at the center
 * ```
 */
export function step(options?: StepOptions): BuiltinModel {
  const who = "models.step";
  const prefix = checkFactoryOptions(options, ["prefix", "form"], who);
  const form = options?.form ?? "linear";
  if (!(STEP_FORMS as readonly string[]).includes(form)) {
    throw new TypeError(
      `${who}: form must be one of ${STEP_FORMS.join(", ")}, got ${
        JSON.stringify(form)
      }`,
    );
  }
  const { rise, spread } = FORMS[form];
  return createLeaf({
    name: "step",
    params: ["amplitude", "center", "sigma"],
    expression: `amplitude * ${rise}`,
    hints: { sigma: { min: 0 } },
    options: { form },
    guess: (d) => {
      const g = stepGuess(d, spread);
      return form === "linear" ? bestRamp(d.xs, d.ys, g) ?? g : g;
    },
  }, prefix);
}
