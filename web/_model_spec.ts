// The page's model field and URL `model=`: a built-in model's name
// ("gaussian", "polynomial3"), several joined by "+" (a composite whose
// components get prefixes g1_, g2_, l1_, ...), or an expression of the model
// language. The same function builds the model in the page, in its worker and
// in the Deno script the page exports, so all three fit the same model.

import { model } from "../model/model.ts";
import type { Model } from "../model/types.ts";
import { type BuiltinModel, models } from "../models/mod.ts";

/** Built-in models the page offers (one variable x; no required options). */
export const PAGE_MODELS = [
  "linear",
  "quadratic",
  "polynomial3",
  "exponential",
  "exponentialDecay",
  "powerLaw",
  "gaussian",
  "lorentzian",
  "voigt",
  "pseudoVoigt",
  "step",
  "sine",
  "lognormal",
  "logistic",
  "hill",
  "michaelisMenten",
  "constant",
] as const;

const BUILTIN = /^([A-Za-z]+?)(\d*)$/;

interface Term {
  readonly name: string;
  readonly degree?: number;
}

function builtinTerm(text: string): Term | undefined {
  const m = BUILTIN.exec(text.trim());
  if (m === null) return undefined;
  const [, name, digits] = m;
  if (name === "polynomial" && digits !== "") {
    return { name, degree: Number(digits) };
  }
  if (digits !== "" || name === "expression" || name === "gaussian2d") {
    return undefined;
  }
  return Object.hasOwn(models, name) ? { name } : undefined;
}

/** The built-in terms of `spec`, or undefined when it is an expression. */
function builtinTerms(spec: string): Term[] | undefined {
  const terms = spec.split("+").map(builtinTerm);
  return terms.every((t) => t !== undefined) ? terms as Term[] : undefined;
}

function leaf(t: Term, prefix: string): BuiltinModel {
  const make = models as unknown as Record<
    string,
    (o: { prefix: string; degree?: number }) => BuiltinModel
  >;
  return t.degree === undefined
    ? make[t.name]({ prefix })
    : models.polynomial({ prefix, degree: t.degree });
}

/**
 * The prefix of each component of a composite: the name's first letter and
 * its count among components with that letter (`g1_`, `g2_`, `l1_`).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { componentPrefixes } from "./_model_spec.ts";
 * assert.deepStrictEqual(
 *   componentPrefixes(["gaussian", "gaussian", "linear"]),
 *   ["g1_", "g2_", "l1_"],
 * );
 * ```
 */
export function componentPrefixes(names: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return names.map((n) => {
    const c = n[0].toLowerCase();
    const k = (seen.get(c) ?? 0) + 1;
    seen.set(c, k);
    return `${c}${k}_`;
  });
}

/**
 * The variable of an expression: the x column's name when it is an
 * identifier that the expression uses (`t` in `a * exp(-b * t)` for a column
 * "t"), else `x`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { variableOf } from "./_model_spec.ts";
 * assert.strictEqual(variableOf("a * exp(-b * t)", "t"), "t");
 * assert.strictEqual(variableOf("a * x", "time"), "x");
 * ```
 */
export function variableOf(expression: string, xName = "x"): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(xName)) return "x";
  return new RegExp(`(^|[^A-Za-z0-9_])${xName}([^A-Za-z0-9_(]|$)`).test(
      expression,
    )
    ? xName
    : "x";
}

/**
 * Builds the model a spec names: a built-in model, a composite of built-in
 * models joined by "+", or an expression (which throws `ModelSyntaxError`
 * with its caret message when it does not parse).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { modelFromSpec } from "./_model_spec.ts";
 * assert.deepStrictEqual(modelFromSpec("gaussian+linear").params, [
 *   "g1_amplitude", "g1_center", "g1_sigma", "l1_slope", "l1_intercept",
 * ]);
 * assert.deepStrictEqual(modelFromSpec("a * exp(-b * x)").params, ["a", "b"]);
 * ```
 */
export function modelFromSpec(
  spec: string,
  xName = "x",
): Model | BuiltinModel {
  const text = spec.trim();
  if (text === "") {
    throw new TypeError("model: empty (a name or an expression)");
  }
  const terms = builtinTerms(text);
  if (terms === undefined) {
    const v = variableOf(text, xName);
    return v === "x" ? model(text) : model(text, { variables: [v] });
  }
  if (terms.length === 1) return leaf(terms[0], "");
  const prefixes = componentPrefixes(terms.map((t) => t.name));
  return terms.map((t, i) => leaf(t, prefixes[i])).reduce((a, b) => a.add(b));
}

/**
 * The TypeScript that builds the same model as `spec` with the public API
 * (for the Deno script the page exports).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { modelSource } from "./_model_spec.ts";
 * assert.strictEqual(
 *   modelSource("gaussian+gaussian"),
 *   'models.gaussian({ prefix: "g1_" }).add(models.gaussian({ prefix: "g2_" }))',
 * );
 * assert.strictEqual(modelSource("a*x"), 'model("a*x")');
 * ```
 */
export function modelSource(spec: string, xName = "x"): string {
  const text = spec.trim();
  const terms = builtinTerms(text);
  if (terms === undefined) {
    const v = variableOf(text, xName);
    return v === "x"
      ? `model(${JSON.stringify(text)})`
      : `model(${JSON.stringify(text)}, { variables: [${JSON.stringify(v)}] })`;
  }
  const prefixes = terms.length === 1
    ? [""]
    : componentPrefixes(terms.map((t) => t.name));
  return terms.map((t, i) => {
    const opts = [
      prefixes[i] === "" ? "" : `prefix: ${JSON.stringify(prefixes[i])}`,
      t.degree === undefined ? "" : `degree: ${t.degree}`,
    ].filter((s) => s !== "").join(", ");
    return `models.${t.name}(${opts === "" ? "" : `{ ${opts} }`})`;
  }).reduce((a, b) => `${a}.add(${b})`);
}

/** Whether the spec names built-in models (which can guess their start). */
export function isBuiltinSpec(spec: string): boolean {
  return builtinTerms(spec.trim()) !== undefined;
}

/**
 * Parses the URL's `p0=a=1,b=2` into starts by name.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { parseP0 } from "./_model_spec.ts";
 * assert.deepStrictEqual(parseP0("b1=500, b2=1e-4"), { b1: 500, b2: 1e-4 });
 * assert.throws(() => parseP0("b1=x"), /p0: "b1=x" is not name=number/);
 * ```
 */
export function parseP0(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of text.split(",")) {
    if (item.trim() === "") continue;
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(\S+)\s*$/.exec(item);
    const v = m === null ? NaN : Number(m[2]);
    if (m === null || !Number.isFinite(v)) {
      throw new TypeError(`p0: "${item.trim()}" is not name=number`);
    }
    out[m[1]] = v;
  }
  return out;
}
