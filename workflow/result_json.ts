/**
 * A fit result as plain JSON and back: the model (its description), the
 * data summary, the parameters with their settings, the covariance, the
 * statistics and the Jacobian factor the diagnostics read, so that a
 * restored result predicts, reports and diagnoses as the original did, to
 * the last bit. Numbers JSON cannot hold are written as strings
 * (`"Infinity"`, `"-Infinity"`, `"NaN"`, `"-0"`).
 *
 * @module
 */

import type { Model } from "../model/types.ts";
import {
  describeModel,
  type ModelDescription,
  modelFromDescription,
} from "../models/description.ts";
import type { DataSummary } from "./data_summary.ts";
import type { JacobianFactor } from "./diagnostics.ts";
import type { DerivedQuantity, FitResultFields } from "./fit_result.ts";
import type { ParamSetting } from "./fit/_params.ts";
import type { SolverName } from "../core/solver_options.ts";

/** The `format` field of a saved result. */
export const RESULT_FORMAT = "@nlsq/nlsq fit result";
/** The version of the saved layout this code writes and reads. */
export const RESULT_VERSION = 1;

/**
 * Options of `FitResult.fromJSON`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { fit, FitResult, model } from "@nlsq/nlsq";
 * import type { FromJsonOptions } from "@nlsq/nlsq/workflow";
 * const f = model((x: number, a: number) => a * x, { params: ["a"] });
 * const r = await fit(f, [1, 2, 3], [2, 4, 6], { p0: [1] });
 * const o: FromJsonOptions = { model: f };
 * const back = FitResult.fromJSON(JSON.parse(JSON.stringify(r)), o);
 * assert.strictEqual(back.predict([4]).y[0], r.predict([4]).y[0]);
 * ```
 */
export interface FromJsonOptions {
  /**
   * The model to restore with, in place of the saved description (needed
   * for a plain function model, which cannot be written down); it must
   * have the saved parameter names.
   */
  readonly model?: Model;
}

/** A number as JSON holds it. */
export function encodeNumber(v: number): number | string {
  if (Object.is(v, -0)) return "-0";
  return Number.isFinite(v) ? v : String(v);
}

const SPECIAL = new Set(["Infinity", "-Infinity", "NaN", "-0"]);

class Reader {
  constructor(readonly o: Record<string, unknown>) {}

  fail(field: string, what: string, v: unknown = this.get(field)): never {
    throw new TypeError(
      `FitResult.fromJSON: ${field} must be ${what}, got ${show(v)}`,
    );
  }

  get(path: string): unknown {
    return this.o[path];
  }

  num(field: string, v: unknown = this.get(field)): number {
    if (typeof v === "number") return v;
    if (typeof v === "string" && SPECIAL.has(v)) return Number(v);
    if (v === null) return NaN; // older files wrote null for non-finite values
    return this.fail(field, "a number", v);
  }

  nums(field: string, v: unknown = this.get(field)): number[] {
    if (!Array.isArray(v)) return this.fail(field, "an array of numbers", v);
    return v.map((e, i) => this.num(`${field}[${i}]`, e));
  }

  str(field: string): string {
    const v = this.get(field);
    return typeof v === "string" ? v : this.fail(field, "a string");
  }

  int(field: string): number {
    const v = this.num(field);
    return Number.isInteger(v) ? v : this.fail(field, "an integer");
  }
}

function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? s.slice(0, 57) + "..." : s;
}

/** What `FitResult.toJSON` writes, from the result's fields. */
export interface SavedResult {
  readonly format: string;
  readonly version: number;
  readonly [key: string]: unknown;
}

/**
 * The JSON object of a result's fields (the body of `FitResult.toJSON`):
 * the historic keys (`popt`, `params`, `pcov`, `perr`, the statistics)
 * and what restores it.
 */
export function fieldsToJson(
  f: FitResultFields & {
    readonly model: Model | null;
    readonly dataSummary: DataSummary | null;
  },
  derivedStats: Readonly<Record<string, number>>,
  params: Readonly<Record<string, number>>,
  perr: Float64Array,
): SavedResult {
  const e = encodeNumber;
  const vec = (a: ArrayLike<number>) => Array.from(a, e);
  const model: ModelDescription | null = f.model
    ? describeModel(f.model)
    : null;
  return {
    format: RESULT_FORMAT,
    version: RESULT_VERSION,
    model,
    paramNames: [...f.paramNames],
    popt: vec(f.popt),
    params: Object.fromEntries(
      Object.entries(params).map(([k, v]) => [k, e(v)]),
    ),
    perr: vec(perr),
    pcov: f.pcov.map(vec),
    paramSettings: (f.paramSettings ?? []).map((s) => ({
      vary: s.vary,
      ...(s.expr !== undefined ? { expr: s.expr } : {}),
      min: e(s.min),
      max: e(s.max),
    })),
    nFree: f.nFree ?? f.popt.length,
    derived: Object.fromEntries(
      Object.entries(f.derived ?? {}).map((
        [k, q],
      ) => [k, { value: e(q.value), stderr: e(q.stderr) }]),
    ),
    data: f.dataSummary ? summaryToJson(f.dataSummary) : null,
    weighted: f.weighted ?? false,
    absoluteSigma: f.absoluteSigma ?? false,
    estimator: f.estimator ?? "lse",
    ...Object.fromEntries(
      Object.entries(derivedStats).map(([k, v]) => [k, e(v)]),
    ),
    cost: e(f.cost),
    chiSquare: e(f.chiSquare),
    ssRes: e(f.ssRes),
    ssTot: e(f.ssTot),
    nPoints: f.nPoints,
    nfev: f.nfev,
    njev: f.njev,
    nit: f.nit,
    status: f.status,
    message: f.message,
    success: f.status > 0,
    method: f.method,
    strategy: f.strategy,
    backend: f.backend,
    preset: f.preset,
    tolerances: f.tolerances,
    nStarts: f.starts.length,
    starts: f.starts.map((s) => ({
      ...s,
      p0: vec(s.p0),
      popt: vec(s.popt),
      cost: e(s.cost),
    })),
    optimality: e(f.optimality),
    activeMask: Array.from(f.activeMask),
    elapsedMs: f.elapsedMs,
    notes: [...f.notes],
    jacobianFactor: f.jacobianFactor
      ? { f: vec(f.jacobianFactor.f), colNorms: vec(f.jacobianFactor.colNorms) }
      : null,
  };
}

function summaryToJson(d: DataSummary): Record<string, unknown> {
  const e = encodeNumber;
  return {
    nPoints: d.nPoints,
    x: d.x.map((v) => ({ name: v.name, min: e(v.min), max: e(v.max) })),
    y: { min: e(d.y.min), max: e(d.y.max), mean: e(d.y.mean) },
    weighted: d.weighted,
    description: d.description,
  };
}

/**
 * The fields of a result from its JSON (the body of `FitResult.fromJSON`).
 *
 * @throws {TypeError} naming the field that is missing or malformed, or
 * when the JSON is not a saved fit result.
 */
export function fieldsFromJson(
  json: unknown,
  options: FromJsonOptions = {},
): FitResultFields & { readonly model: Model | null } {
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new TypeError(
      `FitResult.fromJSON: expected the object r.toJSON() returns, got ${
        show(json)
      }`,
    );
  }
  const r = new Reader(json as Record<string, unknown>);
  if (r.get("format") !== RESULT_FORMAT) {
    throw new TypeError(
      `FitResult.fromJSON: format must be "${RESULT_FORMAT}", got ${
        show(r.get("format"))
      } (is this the JSON of r.toJSON()?)`,
    );
  }
  if (r.get("version") !== RESULT_VERSION) {
    throw new TypeError(
      `FitResult.fromJSON: version ${
        show(r.get("version"))
      } is not supported (this library reads version ${RESULT_VERSION})`,
    );
  }
  const names = r.get("paramNames");
  if (!Array.isArray(names) || names.some((s) => typeof s !== "string")) {
    r.fail("paramNames", "an array of names");
  }
  const paramNames = names as string[];
  const p = paramNames.length;
  const popt = Float64Array.from(r.nums("popt"));
  if (popt.length !== p) r.fail("popt", `an array of ${p} numbers`);
  const pcovIn = r.get("pcov");
  if (!Array.isArray(pcovIn) || pcovIn.length !== p) {
    r.fail("pcov", `a ${p} x ${p} array`);
  }
  const pcov = (pcovIn as unknown[]).map((row, i) => {
    const v = r.nums(`pcov[${i}]`, row);
    return v.length === p ? v : r.fail(`pcov[${i}]`, `${p} numbers`, row);
  });
  const model = restoreModel(r, paramNames, options);
  return {
    model,
    popt,
    paramNames,
    pcov,
    paramSettings: settingsFrom(r, p),
    nFree: r.int("nFree"),
    derived: derivedFrom(r),
    dataSummary: summaryFrom(r),
    weighted: r.get("weighted") === true,
    absoluteSigma: r.get("absoluteSigma") === true,
    estimator: r.get("estimator") === "poisson" ? "poisson" : "lse",
    cost: r.num("cost"),
    residuals: null,
    nPoints: r.int("nPoints"),
    ssRes: r.num("ssRes"),
    ssTot: r.num("ssTot"),
    chiSquare: r.num("chiSquare"),
    nfev: r.int("nfev"),
    njev: r.int("njev"),
    nit: r.int("nit"),
    status: r.int("status"),
    message: r.str("message"),
    method: r.str("method") as SolverName,
    strategy: r.str("strategy"),
    backend: r.str("backend"),
    preset: r.str("preset"),
    tolerances: tolerancesFrom(r),
    starts: startsFrom(r),
    optimality: r.num("optimality"),
    activeMask: Int8Array.from(r.nums("activeMask")),
    elapsedMs: r.num("elapsedMs"),
    notes: stringsFrom(r, "notes"),
    jacobianFactor: factorFrom(r),
  };
}

function restoreModel(
  r: Reader,
  names: readonly string[],
  options: FromJsonOptions,
): Model | null {
  const m = options.model ??
    (r.get("model") === null ? null : describedModel(r.get("model")));
  if (m === null) return null;
  if (
    m.params.length !== names.length || m.params.some((n, i) => n !== names[i])
  ) {
    throw new TypeError(
      `FitResult.fromJSON: the model's parameters (${
        m.params.join(", ")
      }) are not the saved ones (${names.join(", ")})`,
    );
  }
  return m;
}

function describedModel(d: unknown): Model | null {
  // A function model is saved by its names only: restored without a model
  // (predict then asks for one), the rest of the result still works.
  if (
    d !== null && typeof d === "object" &&
    (d as { kind?: unknown }).kind === "function"
  ) return null;
  return modelFromDescription(d);
}

function settingsFrom(r: Reader, p: number): ParamSetting[] {
  const v = r.get("paramSettings");
  if (!Array.isArray(v) || v.length !== p) {
    return r.fail("paramSettings", `an array of ${p} settings`);
  }
  return v.map((s, i) => {
    const at = `paramSettings[${i}]`;
    if (s === null || typeof s !== "object") r.fail(at, "an object", s);
    const o = s as Record<string, unknown>;
    if (typeof o.vary !== "boolean") r.fail(`${at}.vary`, "a boolean", o.vary);
    if (o.expr !== undefined && typeof o.expr !== "string") {
      r.fail(`${at}.expr`, "a string", o.expr);
    }
    return {
      vary: o.vary as boolean,
      ...(typeof o.expr === "string" ? { expr: o.expr } : {}),
      min: r.num(`${at}.min`, o.min),
      max: r.num(`${at}.max`, o.max),
    };
  });
}

function derivedFrom(r: Reader): Record<string, DerivedQuantity> {
  const v = r.get("derived") ?? {};
  if (typeof v !== "object" || v === null) r.fail("derived", "an object");
  return Object.fromEntries(
    Object.entries(v as Record<string, { value: unknown; stderr: unknown }>)
      .map(([k, q]) => [k, {
        value: r.num(`derived.${k}.value`, q?.value),
        stderr: r.num(`derived.${k}.stderr`, q?.stderr),
      }]),
  );
}

function summaryFrom(r: Reader): DataSummary | null {
  const d = r.get("data");
  if (d === null || d === undefined) return null;
  if (typeof d !== "object") r.fail("data", "an object or null");
  const o = d as Record<string, unknown>;
  const xs = Array.isArray(o.x) ? o.x : r.fail("data", "a data summary");
  const y = (o.y ?? {}) as Record<string, unknown>;
  return {
    nPoints: r.num("data.nPoints", o.nPoints),
    x: xs.map((v: Record<string, unknown>, i: number) => ({
      name: String(v?.name),
      min: r.num(`data.x[${i}].min`, v?.min),
      max: r.num(`data.x[${i}].max`, v?.max),
    })),
    y: {
      min: r.num("data.y.min", y.min),
      max: r.num("data.y.max", y.max),
      mean: r.num("data.y.mean", y.mean),
    },
    weighted: o.weighted === true,
    description: String(o.description ?? ""),
  };
}

function tolerancesFrom(
  r: Reader,
): { ftol: number; xtol: number; gtol: number } {
  const t = r.get("tolerances");
  if (t === null || typeof t !== "object") r.fail("tolerances", "an object");
  const o = t as Record<string, unknown>;
  return {
    ftol: r.num("tolerances.ftol", o.ftol),
    xtol: r.num("tolerances.xtol", o.xtol),
    gtol: r.num("tolerances.gtol", o.gtol),
  };
}

function startsFrom(r: Reader): FitResultFields["starts"] {
  const v = r.get("starts");
  if (!Array.isArray(v)) return r.fail("starts", "an array");
  return v.map((s: Record<string, unknown>, i: number) => ({
    p0: r.nums(`starts[${i}].p0`, s?.p0),
    popt: r.nums(`starts[${i}].popt`, s?.popt),
    cost: r.num(`starts[${i}].cost`, s?.cost),
    status: r.num(`starts[${i}].status`, s?.status),
    nfev: r.num(`starts[${i}].nfev`, s?.nfev),
    success: s?.success === true,
  }));
}

function stringsFrom(r: Reader, field: string): string[] {
  const v = r.get(field);
  if (!Array.isArray(v) || v.some((s) => typeof s !== "string")) {
    return r.fail(field, "an array of strings");
  }
  return v as string[];
}

function factorFrom(r: Reader): JacobianFactor | null {
  const v = r.get("jacobianFactor");
  if (v === null || v === undefined) return null;
  const o = v as Record<string, unknown>;
  const f = Float64Array.from(r.nums("jacobianFactor.f", o.f));
  const colNorms = Float64Array.from(
    r.nums("jacobianFactor.colNorms", o.colNorms),
  );
  if (f.length !== colNorms.length * colNorms.length) {
    r.fail("jacobianFactor", "a q x q factor with q column norms", v);
  }
  return { f, colNorms };
}
