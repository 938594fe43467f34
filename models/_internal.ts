/**
 * What a built-in model knows about itself beyond its public members
 * (private helper): its role in a composite's guess, and how a peak measured
 * in the data becomes its parameter values.
 *
 * @module
 */

import type { DerivedDef } from "./_derived.ts";
import type { BuiltinModel } from "./builtin_model.ts";

/** A peak measured in data (see `models/_peaks.ts`). */
export interface PeakMeasurement {
  /** Signed height above the baseline. */
  readonly height: number;
  /** x at the extremum. */
  readonly xMax: number;
  /** Half-maximum crossings on either side of the extremum. */
  readonly left: number;
  readonly right: number;
}

/**
 * How a composite's guess treats a component: a peak (found in the data
 * and assigned in order of position), a polynomial baseline (fitted to what
 * is left, by linear least squares), or anything else (guessed on what is
 * left by its own guess).
 */
export type Role = "peak" | "baseline" | "other";

/**
 * How a single model was made: its factory's name, the prefix, and the
 * factory's other options (JSON values), so that it can be made again.
 */
export interface LeafOrigin {
  /** The factory's name in `models` ("gaussian", "polynomial", "expression"). */
  readonly factory: string;
  readonly prefix: string;
  /** The factory's options besides the prefix (degree, form, expression, ...). */
  readonly options: Readonly<Record<string, unknown>>;
}

/** The private part of a built-in model. */
export interface Internals {
  /** How a single model was made (composites: absent). */
  readonly origin?: LeafOrigin;
  readonly role: Role;
  /** Degree of a baseline polynomial. */
  readonly degree?: number;
  /** Parameter values by full name for a measured peak (peaks only). */
  readonly fromPeak?: (m: PeakMeasurement) => Record<string, number>;
  /** Derived quantities over the model's own parameters. */
  readonly derived?: readonly DerivedDef[];
}

/** The key under which a built-in model keeps its {@linkcode Internals}. */
export const INTERNALS: unique symbol = Symbol("nlsq.models.internals");

/**
 * The private part of a built-in model.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { models } from "../mod.ts";
 * import { internalsOf } from "./_internal.ts";
 * assert.strictEqual(internalsOf(models.gaussian()).role, "peak");
 * ```
 */
export function internalsOf(m: BuiltinModel): Internals {
  return (m as unknown as { [INTERNALS]: Internals })[INTERNALS];
}

/**
 * Whether `v` is a model of `models`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { model, models } from "../mod.ts";
 * import { isBuiltinModel } from "./_internal.ts";
 * assert.ok(isBuiltinModel(models.linear()) && !isBuiltinModel(model("a * x")));
 * ```
 */
export function isBuiltinModel(v: unknown): v is BuiltinModel {
  return v !== null && typeof v === "object" && INTERNALS in v;
}
